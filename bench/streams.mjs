// Generated streams shared by the benchmarks: deterministic, so every run
// and every parser sees the same bytes.
import { mulberry32 as rng } from "../tests/random.mjs";

const WORDS = [
  "the", "budget", "is", "frozen", "until", "Q3,", "and", "procurement", "wants", "a",
  "discount", "before", "signing.", "José", "Álvarez", "mentioned", "renewal", "risk;",
  "Zoë", "Müller", "asked", "about", "東京", "pricing", "😀", "seats", "[12:45, Sarah Johnson]",
];

/** About 25 MB of chat-token events (200,000 of them), as one byte array. */
export function tokenStream(events = 200_000) {
  const random = rng(42);
  const parts = [];
  parts.push(`event: session\nid: m_8f3a2c1d:1\ndata: {"sessionId":"s_1","messageId":"m_8f3a2c1d"}\n\n`);
  for (let i = 0; i < events; i++) {
    let text = "";
    while (text.length < 60 + random() * 40) text += " " + WORDS[Math.floor(random() * WORDS.length)];
    parts.push(`event: token\nid: m_8f3a2c1d:${i + 2}\ndata:${text}\n\n`);
  }
  return new TextEncoder().encode(parts.join(""));
}

/** One event of `size` bytes of data. */
export function bigEvent(size = 4 << 20) {
  const line = "x".repeat(1023) + "é";
  const body = line.repeat(Math.ceil(size / 1025)).slice(0, size);
  return new TextEncoder().encode(`event: token\nid: big\ndata: ${body}\n\n`);
}

/** The stream cut into views of `size` bytes. */
export function chunked(bytes, size) {
  const chunks = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
}
