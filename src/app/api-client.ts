import { ApiClient, type ApiClientOptions } from "../api-client/api-client.js";
import { resolveEndpoint } from "../config/connection-settings.js";

/** How the client asks: everything but where. */
export type ApiClientSettings = Omit<ApiClientOptions, "baseUrl">;

/** The HTTP API client at a known URL (a stack bench started, the URL doctor checks). */
export function apiClientAt(baseUrl: string, settings: ApiClientSettings = {}): ApiClient {
  return new ApiClient({ ...settings, baseUrl });
}

/** The HTTP API client at `--api`, else API_URL, the state file of `ecwatch up`, the default. */
export function openApiClient(flags: { readonly api?: string }, settings: ApiClientSettings = {}): ApiClient {
  return apiClientAt(resolveEndpoint("api", flags.api), settings);
}
