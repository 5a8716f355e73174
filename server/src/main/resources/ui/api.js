// The console's client of the control plane's /v1 API. The token lives in this tab's sessionStorage only: it goes
// out in the Authorization header, never in a URL, and is never logged.

const TOKEN = 'bolero.token';

/** An answer of the API that is not a success: its HTTP status and the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The signed-in token, or null. */
export function token() {
  return sessionStorage.getItem(TOKEN);
}

/** Signs out: forgets the token and tells the page (event `bolero:signed-out`). */
export function signOut() {
  sessionStorage.removeItem(TOKEN);
  window.dispatchEvent(new Event('bolero:signed-out'));
}

/**
 * Signs in with `candidate`: keeps it when the API accepts it, and tells whether it is an admin token.
 * @throws ApiError when the API refuses it
 */
export async function signIn(candidate) {
  await send('GET', '/v1/namespaces', undefined, {}, candidate);
  sessionStorage.setItem(TOKEN, candidate);
  return isAdmin();
}

/** Whether the signed-in token is an admin token (the replica's status is for admins only). */
export async function isAdmin() {
  try {
    await get('/v1/status');
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return false;
    throw e;
  }
}

/** GET `path` → its JSON. */
export function get(path, options) {
  return send('GET', path, undefined, options);
}

/** The most items a page of a list has. */
const PAGE = 1000;

/**
 * The items of the list at `path` (its query, if any, included): the pages the API gives, each read after the last
 * `key` of the one before, until a short page or `maxPages` pages; `more` tells whether it stopped with pages left.
 */
export async function pages(path, key, options, maxPages = Infinity) {
  const items = [];
  for (let page = 0, cursor = null; page < maxPages; page++) {
    const q = new URLSearchParams({limit: PAGE});
    if (cursor !== null) q.set('cursor', cursor);
    const got = await get(`${path}${path.includes('?') ? '&' : '?'}${q}`, options);
    items.push(...got);
    if (got.length < PAGE) return {items, more: false};
    cursor = got[got.length - 1][key];
  }
  return {items, more: true};
}

/** Every item of the list at `path`, read page by page (see `pages`). */
export async function all(path, key, options) {
  return (await pages(path, key, options)).items;
}

/** POST `body` (undefined: none) to `path` → its JSON, or null for an answer without a body. */
export function post(path, body, options) {
  return send('POST', path, body, options);
}

async function send(method, path, body, {signal} = {}, bearer = token()) {
  const headers = {Accept: 'application/json'};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {method, headers, signal, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body)});
  if (!response.ok) throw await failure(response, method, path, bearer);
  if (response.status === 204) return null;
  return response.json();
}

/**
 * Reads the text `path` answers as it comes (a followed log), giving each piece to `onText`, until the answer ends
 * (resolves) or `signal` aborts it (rejects with an AbortError).
 * @throws ApiError when the API refuses the request
 */
export async function streamText(path, onText, signal) {
  const bearer = token();
  const response = await fetch(path, {headers: {Authorization: `Bearer ${bearer}`}, signal, cache: 'no-store'});
  if (!response.ok) throw await failure(response, 'GET', path, bearer);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    onText(value);
  }
}

/** The ApiError of a refused request; a 401 on the signed-in token also signs out. */
async function failure(response, method, path, bearer) {
  let code = 'unknown';
  let message = `${method} ${path}: HTTP ${response.status}`;
  try {
    const error = (await response.json()).error;
    if (error && error.code) {
      code = error.code;
      message = error.message;
    }
  } catch {
    // not the API's error shape: the status says it
  }
  if (response.status === 401 && bearer && bearer === token()) signOut();
  return new ApiError(response.status, code, message);
}
