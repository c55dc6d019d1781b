"use strict";
// Run first of all by bin/pushgw, and put first in the standalone executable (scripts/standalone.mjs).
//
// SIGUSR1 makes Node open its inspector on 127.0.0.1:9229, with no authentication, to every local
// user: whoever can signal a pushgw running as root could then run code as root. A listener of
// pushgw's own replaces Node's handler; pushgw ignores the signal (wrap passes it on to the job).
process.on("SIGUSR1", () => {});
// A SIGUSR1 that came during Node's own start, before the line above, has opened the inspector
// already, or does so at the first turn of the event loop: it is closed again then. The binding
// costs microseconds; node:inspector is loaded (10 ms on Node 20) only when there is one to close.
const closeInspector = () => {
  try {
    if (process.binding("inspector").url()) require("node:inspector").close();
  } catch {
    // No inspector in this Node.
  }
};
setImmediate(closeInspector);
setTimeout(closeInspector, 250).unref();
