import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookUrl, isBlockedAddress } from '../../domain/alerts.js';
import type { WebhookResponse, WebhookSender } from '../../ports/alerts.js';

/**
 * POSTs webhook deliveries with node:http(s). On AWS (`allowLoopback` false) the URL is checked
 * again (https, no private address literal) and every address the name resolves to is checked
 * in the connection's own DNS lookup, so a name that resolves (or re-resolves: DNS rebinding) to
 * a private, loopback or link-local address — such as the instance metadata service — is never
 * connected to. Redirects are not followed. The response body is read and discarded.
 */
export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly opts: { allowLoopback: boolean }) {}

  post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<WebhookResponse> {
    const verdict = checkWebhookUrl(url, this.opts);
    if (!verdict.ok) return Promise.reject(new Error(`URL refused: it ${verdict.reason}`));
    const target = verdict.url;
    const lookup: LookupFunction | undefined = this.opts.allowLoopback ? undefined : (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 4);
        const blocked = addresses.find((a) => isBlockedAddress(a.address));
        if (blocked) return callback(Object.assign(new Error(`${hostname} resolves to ${blocked.address}, a private, loopback or link-local address`), { code: 'EBLOCKED' }), '', 4);
        const first = addresses[0];
        if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 4);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return callback(null, first.address, first.family);
      });
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<WebhookResponse>((resolve, reject) => {
      const req = send(target, {
        method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs, ...(lookup ? { lookup } : {}),
      }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      });
      // The whole exchange, not only an idle socket, is bounded by the timeout.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
