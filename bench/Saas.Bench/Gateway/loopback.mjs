// Preloaded into Portkey's server (node --import): its start script listens on every interface and has no option
// for the address, so a listen() without a host is bound to 127.0.0.1 (the benchmark talks to loopback only).
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (port, host, ...rest) {
  if (typeof port !== "number") {
    return listen.call(this, port, host, ...rest);
  }
  if (typeof host === "function") {
    return listen.call(this, port, "127.0.0.1", host, ...rest);
  }
  return listen.call(this, port, host ?? "127.0.0.1", ...rest);
};
