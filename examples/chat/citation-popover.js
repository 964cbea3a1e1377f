// One shared card that shows a citation badge's source on hover, focus or click.

import { badgeInfo, el } from "./conversation-view.js";

/** AnswerView's badge buttons (js/dom.js). */
const BADGE = ".cs-badge";

export class CitationPopover {
  constructor(popover, scope) {
    this.popover = popover;
    this.anchor = null;
    this.hideTimer = 0;
    scope.addEventListener("mouseover", (event) => this.onEnter(event));
    scope.addEventListener("focusin", (event) => this.onEnter(event));
    scope.addEventListener("mouseout", (event) => this.onLeave(event));
    scope.addEventListener("focusout", (event) => this.onLeave(event));
    scope.addEventListener("click", (event) => {
      const badge = event.target.closest?.(BADGE);
      if (badge) this.show(badge);
    });
    // The card itself stays open while the pointer is on it.
    popover.addEventListener("mouseenter", () => clearTimeout(this.hideTimer));
    popover.addEventListener("mouseleave", () => this.scheduleHide());
    window.addEventListener("resize", () => {
      if (this.anchor && this.open) this.position(this.anchor);
    });
  }

  get open() {
    return !this.popover.hidden;
  }

  onEnter(event) {
    const badge = event.target.closest?.(BADGE);
    if (badge) this.show(badge);
  }

  onLeave(event) {
    const badge = event.target.closest?.(BADGE);
    if (!badge || badge.contains(event.relatedTarget)) return;
    this.scheduleHide();
  }

  scheduleHide() {
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => this.hide(), 150);
  }

  show(badge) {
    clearTimeout(this.hideTimer);
    if (this.anchor && this.anchor !== badge) this.release(this.anchor);
    this.anchor = badge;
    // The card says what the badge's native tooltip would: it stands in for it while open.
    if (badge.hasAttribute("title")) {
      badge.dataset.title = badge.title;
      badge.removeAttribute("title");
    }
    this.render(badge);
    badge.setAttribute("aria-describedby", this.popover.id);
    this.popover.hidden = false;
    this.position(badge);
  }

  hide() {
    clearTimeout(this.hideTimer);
    this.popover.hidden = true;
    if (this.anchor) this.release(this.anchor);
    this.anchor = null;
  }

  /** The badge is no longer the card's: its description and tooltip go back to it. */
  release(badge) {
    badge.removeAttribute("aria-describedby");
    if (badge.dataset.title !== undefined) {
      // AnswerView may have titled it again meanwhile (sources arrived); that one is newer.
      if (!badge.hasAttribute("title")) badge.title = badge.dataset.title;
      delete badge.dataset.title;
    }
  }

  /** Re-renders the card if its badge changed (for example when sources arrive). */
  refresh() {
    if (this.anchor && this.open) {
      if (!this.anchor.isConnected) this.hide();
      else this.render(this.anchor);
    }
  }

  render(badge) {
    const { source, why, stopped } = badgeInfo(badge);
    const parts = [];
    if (source) {
      parts.push(el("strong", "popover-title", source.conversationTitle ?? "Conversation"));
      parts.push(el("span", "popover-meta", `${source.timestamp} · ${source.speaker}`));
      if (source.quote) parts.push(el("blockquote", "popover-quote", `“${source.quote}”`));
      this.popover.dataset.sourceId = String(source.id ?? "");
    } else {
      parts.push(el("strong", "popover-title", badge.textContent));
      const raw = badge.closest(".cs-citation")?.dataset.raw;
      if (raw) parts.push(el("span", "popover-meta", `Cited as ${raw}`));
      const text = {
        pending: stopped
          ? "The answer was stopped: loading the sources saved with it…"
          : "Source details arrive when the answer is complete.",
        unbacked: "No source returned with this answer backs this citation.",
        unknown: stopped
          ? "The answer was stopped before its sources could be loaded."
          : "Sources were not received: the answer did not finish.",
      }[why];
      parts.push(el("p", why === "unbacked" ? "popover-warning" : "popover-meta", text));
      delete this.popover.dataset.sourceId;
    }
    this.popover.replaceChildren(...parts);
  }

  position(badge) {
    const rect = badge.getBoundingClientRect();
    const card = this.popover.getBoundingClientRect();
    const margin = 8;
    const below = rect.bottom + 6;
    const top = below + card.height > window.innerHeight - margin && rect.top - card.height - 6 > margin
      ? rect.top - card.height - 6
      : below;
    const left = Math.max(margin, Math.min(rect.left, document.documentElement.clientWidth - card.width - margin));
    this.popover.style.top = `${top + window.scrollY}px`;
    this.popover.style.left = `${left + window.scrollX}px`;
  }
}
