// A Markdown answer the way LLM answers about sales calls look, for the
// render bench: a short intro, per region a heading, a bullet list per
// prospect with **bold** names, *emphasis*, `code` and inline citations such
// as `[12:45, Sarah Johnson]`, nested sub-bullets, a comparison table with
// aligned columns and citations in cells, a block quote with a verbatim
// quote, a fenced code block, numbered next steps, and a closing paragraph.
// Deterministic (seeded), and cut into tokens the way a model streams them:
// words with their leading space, numbers of up to three digits,
// punctuation runs, newlines.
//
//   markdownAnswer({ tokens: 4000, seed: 1 }) => { text, tokens: string[] }
import { mulberry32 as prng } from "../tests/random.mjs";

const FIRST = ["Sarah", "Mark", "Priya", "Tomás", "Aiko", "David", "Fatima", "Lars", "Chen", "Olivia", "Kwame", "Elena"];
const LAST = ["Johnson", "Lee", "Patel", "García", "Tanaka", "Okafor", "Haddad", "Nilsson", "Wei", "Brown", "Mensah", "Rossi"];
const COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Retail", "Hooli", "Vandelay Imports", "Soylent Foods", "Tyrell Systems", "Cyberdyne", "Wonka Labs"];
const ROLES = ["VP Finance", "Head of Procurement", "CTO", "Operations Director", "CFO", "IT Manager"];
const REGIONS = ["North America", "EMEA", "APAC", "Latin America", "Public sector", "Mid-market"];
const CONCERNS = [
  "said the budget for next year is frozen until the board meets in Q3",
  "asked whether the pilot could be priced monthly instead of annually",
  "mentioned that procurement now requires three competing quotes",
  "explained that the team lost two headcount and cannot take on a migration",
  "wanted to know if the per-seat price drops above 500 seats",
  "noted that a competitor offered a 30% discount for a two-year term",
  "said legal review of the data processing terms will take six weeks",
  "pointed out that the current contract renews automatically in March",
];
const DETAILS = [
  "Decision maker is the CFO, who joins the next call",
  "Prefers a phased rollout starting with the support team",
  "Needs SSO and an audit log before any purchase",
  "Budget owner changed last month",
  "Open to a case study in exchange for a discount",
];
const QUOTES = [
  "We love the product, but there is simply no money left this year.",
  "If you can match their price we sign this quarter, otherwise we wait.",
  "Nobody here will approve a three-year commitment right now.",
];

const pick = (random, list) => list[Math.floor(random() * list.length)];
const stamp = (random) => `${Math.floor(random() * 59) + 1}:${String(Math.floor(random() * 60)).padStart(2, "0")}`;

function citation(random, speaker) {
  if (random() < 0.2) return `[${stamp(random)}, ${speaker}; ${stamp(random)}, ${pick(random, FIRST)} ${pick(random, LAST)}]`;
  return `[${stamp(random)}, ${speaker}]`;
}

function region(random, index) {
  const lines = [`## ${REGIONS[index % REGIONS.length]}${index >= REGIONS.length ? ` (${Math.floor(index / REGIONS.length) + 1})` : ""}`, ""];
  const prospects = [];
  for (let i = 0; i < 5; i++) {
    const speaker = `${pick(random, FIRST)} ${pick(random, LAST)}`;
    const company = pick(random, COMPANIES);
    prospects.push({ speaker, company });
    lines.push(`- **${company}** (${speaker}, ${pick(random, ROLES)}) ${pick(random, CONCERNS)} ${citation(random, speaker)}. They *also* ${pick(random, CONCERNS).replace(/^said /, "said ")} ${citation(random, speaker)}.`);
    if (random() < 0.6) {
      lines.push(`  - ${pick(random, DETAILS)} ${citation(random, speaker)}`);
      lines.push(`  - Next call booked; account code \`${company.slice(0, 3).toUpperCase()}-${100 + i}\``);
    }
  }
  lines.push("", "| Account | Budget status | Timeline | Seats |", "| :--- | :---: | :--- | ---: |");
  for (const { company, speaker } of prospects) {
    lines.push(`| ${company} | ${random() < 0.5 ? "Frozen" : "Under review"} ${citation(random, speaker)} | Q${Math.floor(random() * 4) + 1} | ${Math.floor(random() * 900) + 50} |`);
  }
  const quoted = prospects[Math.floor(random() * prospects.length)].speaker;
  lines.push("", `> "${pick(random, QUOTES)}" ${citation(random, quoted)}`, `> — ${quoted}`, "");
  if (index % 2 === 0) {
    lines.push("The CRM export for these accounts:", "", "```json", "{");
    prospects.forEach(({ company }, i) => lines.push(`  "${company}": { "stage": "negotiation", "risk": ${(random() * 0.9).toFixed(2)} }${i < prospects.length - 1 ? "," : ""}`));
    lines.push("}", "```", "");
  }
  lines.push("Suggested next steps:", "");
  for (let i = 1; i <= 3; i++) lines.push(`${i}. Send **${prospects[i].company}** a revised quote with ~~annual~~ monthly billing ${citation(random, prospects[i].speaker)}.`);
  lines.push("");
  return lines.join("\n");
}

/** GPT-like cuts: a word with its leading space, up to 3 digits, a punctuation run, spaces, newlines. */
export function tokenize(text) {
  return text.match(/ ?[\p{L}]+| ?\d{1,3}| ?[^\s\p{L}\d]+| +|\n+/gu) ?? [];
}

/** An answer of about `tokens` tokens (whole regions: within half a region's length), at least one region. */
export function markdownAnswer({ tokens = 4000, seed = 1 } = {}) {
  const random = prng(seed);
  const parts = [
    `Based on the calls from the last quarter, **several prospects** raised budget constraints. Here is a summary by region, with the passages that support each point ${citation(random, "Sarah Johnson")}.\n\n`,
  ];
  let count = tokenize(parts[0]).length;
  for (let index = 0; ; index++) {
    const part = region(random, index);
    const size = tokenize(part).length;
    if (index > 0 && count + size / 2 > tokens) break;
    parts.push(part);
    count += size;
  }
  parts.push("In short, most of the risk sits with accounts whose budget owner changed; a *monthly* option would unblock at least three of them.\n");
  const text = parts.join("");
  return { text, tokens: tokenize(text) };
}
