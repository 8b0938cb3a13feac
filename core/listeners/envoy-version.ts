// Envoy's version as its admin `/server_info` states it (`<sha>/1.19.1/Clean/RELEASE/BoringSSL`,
// the same string `envoy --version` prints after "version: "): which fields a listener can have.

export interface EnvoyVersion {
  major: number;
  minor: number;
  patch: number;
}

/** The `MAJOR.MINOR.PATCH` part of an Envoy version string, undefined when there is none. */
export function parseEnvoyVersion(text: string | undefined): EnvoyVersion | undefined {
  if (!text) return undefined;
  const m = /(?:^|\/)(\d{1,3})\.(\d{1,4})\.(\d{1,4})(?:[-/]|$)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Whether the version is at least major.minor; undefined when the version is not known. */
export function envoyVersionAtLeast(
  text: string | undefined,
  major: number,
  minor: number,
): boolean | undefined {
  const v = parseEnvoyVersion(text);
  if (!v) return undefined;
  return v.major !== major ? v.major > major : v.minor >= minor;
}
