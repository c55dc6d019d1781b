// Stands in for node:process inside execa and its helpers: the process object itself. A default
// import of Node's module makes esbuild copy its 80 properties, as getters, into a new object at
// each of the 7 places that import it: about 1 ms of every wrap. The names they import are the
// ones below; a package that imports another one fails the build.
const { platform, hrtime, execPath, execArgv } = process;

export default process;
export { platform, hrtime, execPath, execArgv };
