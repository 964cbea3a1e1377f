// The flags the system Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) needs here, shared by the end-to-end tests and the
// benches: headless as root, and no background networking, whose attempts
// this machine's closed network refuses many at a time.
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
