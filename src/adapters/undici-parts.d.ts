// undici's own index loads every dispatcher, interceptor and mock it has (about 85 ms when
// bundled); pushgw imports only the Agent and the request API (about 33 ms). These two
// modules have no typings of their own, so they borrow the package's.
declare module "undici/lib/dispatcher/agent.js" {
  import { Agent } from "undici";
  export default Agent;
}

declare module "undici/lib/api/api-request.js" {
  import type { Dispatcher } from "undici";
  export default function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
}

