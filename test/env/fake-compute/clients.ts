/**
 * gceClientsFor(fake): every client of GceClients pointed at the fake over plain HTTP.
 *
 * What @google-cloud/compute 7.8 / google-gax 6.17 need for that (google-gax build/src/fallback.js createStub and
 * fallbackServiceStub.js): `apiEndpoint` (the servicePath), `port` (always set: the client defaults it to 443 and
 * it overrides a `:port` in apiEndpoint), `protocol: "http"` (default https), and an `authClient` that has
 * `getRequestHeaders()` (createStub accepts any object with it as the AuthClient, so ADC is never consulted) and
 * `fetch(url, init)`: the REST stub sends every request through `auth.fetch` ("auth.fetch is not a function"
 * without it). gaxios rejects 401/403 there; global fetch resolves them and gax decodes the same JSON error, so
 * the client surfaces the same GoogleError either way. `fallback` is already true for compute clients.
 */
import { InstancesClient, ZonesClient } from "@google-cloud/compute";
import { gceClientsWith } from "../../../providers/gce/create-gce-provider.js";
import type { GceClients } from "../../../providers/gce/gce-types.js";

type ClientOptions = NonNullable<ConstructorParameters<typeof ZonesClient>[0]>;
type AuthClient = NonNullable<ClientOptions["authClient"]>;

/** The part of the fake the clients need. */
export interface FakeEndpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * An auth client that adds no credentials and sends requests with the global fetch. The cast is the one place
 * the fake leaves the client's types: AuthClient is a class of google-auth-library (not a dependency of ours)
 * and gax uses only these two members of it on the REST path.
 */
export function fakeAuthClient(): AuthClient {
  const auth = {
    getRequestHeaders: async (): Promise<Headers> => new Headers(),
    fetch: (url: string | URL, init?: RequestInit): Promise<Response> => fetch(url, init),
  };
  return auth as unknown as AuthClient;
}

/** Client options for `fake`; extra options (e.g. clientConfig for retries) are merged in. */
export function fakeClientOptions(fake: FakeEndpoint, extra: ClientOptions = {}): ClientOptions {
  return { apiEndpoint: fake.host, port: fake.port, protocol: "http", authClient: fakeAuthClient(), ...extra };
}

export function gceClientsFor(fake: FakeEndpoint, extra: ClientOptions = {}): GceClients {
  return gceClientsWith(fakeClientOptions(fake, extra));
}

/** Clients the provider does not use but tests may (zones, instances). */
export function extraClientsFor(
  fake: FakeEndpoint,
  extra: ClientOptions = {},
): { zones: ZonesClient; instances: InstancesClient } {
  return {
    zones: new ZonesClient(fakeClientOptions(fake, extra)),
    instances: new InstancesClient(fakeClientOptions(fake, extra)),
  };
}
