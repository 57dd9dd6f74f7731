// What a seed-SDK page needs to run in headless Debian Chromium on a machine without internet:
// the page bundled with the SDK, served from loopback, and Chromium's flags. Shared by the
// interop harness (harness.mjs) and the benchmark (bench/seed-bench.mjs).
import { build, stop } from "esbuild";
import { createServer } from "node:http";

// No sandbox or GPU in containers; no background connections (the closed network refuses
// them by the dozen); fake microphone and camera with permission granted; rc-sim's certificate
// comes from its own CA; received audio may play without a user gesture.
export const CHROMIUM_FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  "--ignore-certificate-errors", "--autoplay-policy=no-user-gesture-required",
];

/** The page script `entry` bundled with its imports as one script; `options` go to esbuild. */
export async function bundlePage(entry, options = {}) {
  const result = await build({ entryPoints: [entry], bundle: true, format: "iife", write: false, logLevel: "silent", ...options });
  // esbuild's service would keep Node alive: stop it, it restarts if asked again.
  await stop();
  return result.outputFiles[0].text;
}

/** Serves a page titled `title` running `script` on http://127.0.0.1 (a secure context, so
 *  getUserMedia works); returns the server and its origin. */
export async function servePage(script, title) {
  const server = createServer((req, res) => {
    if (req.url === "/bundle.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return res.end(script);
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><script src="/bundle.js"></script>`);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}
