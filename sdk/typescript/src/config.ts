import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

import { InvalidRequest } from "./errors.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** Where the daemon is and the key to it, after the precedence rules. */
export interface ResolvedConfig {
  url: string;
  token: string | undefined;
}

/**
 * The same precedence as the CLI and the Python SDK: explicit options, then BHATTI_URL / BHATTI_TOKEN, then
 * the CLI's config file ($BHATTI_CONFIG or ~/.bhatti/config.yaml), then the local default URL.
 */
export function resolveConfig(url?: string, token?: string, env: Record<string, string | undefined> = processEnv()): ResolvedConfig {
  let urlFrom = "the url option";
  if (!url && env["BHATTI_URL"]) {
    url = env["BHATTI_URL"];
    urlFrom = "BHATTI_URL";
  }
  token = token || env["BHATTI_TOKEN"] || undefined;
  if (!url || !token) {
    const path = configFile(env);
    const file = readConfigFile(path);
    if (!url && file["api_url"]) {
      url = file["api_url"];
      urlFrom = path;
    }
    token = token || file["auth_token"] || undefined;
  }
  return { url: checkedUrl(url || DEFAULT_URL, urlFrom), token };
}

function processEnv(): Record<string, string | undefined> {
  return typeof process === "undefined" ? {} : process.env;
}

function configFile(env: Record<string, string | undefined>): string {
  return env["BHATTI_CONFIG"] || join(homedir(), ".bhatti", "config.yaml");
}

/** The CLI's config file: flat top-level `api_url:` and `auth_token:` lines; a missing file is no config. */
export function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return {};
  }
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (!line || " \t#".includes(line[0]!) || !line.includes(":")) continue;
    const colon = line.indexOf(":");
    let value = line.slice(colon + 1).split(" #")[0]!.trim();
    if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === "'" || value[0] === '"')) {
      value = value.slice(1, -1);
    }
    values[line.slice(0, colon).trim()] = value;
  }
  return values;
}

function checkedUrl(url: string, from: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRequest(`the daemon's URL from ${from} is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidRequest(`the daemon's URL from ${from} must be http or https: ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, "");
}
