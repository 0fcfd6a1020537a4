/**
 * Registers the built-in DNS resolvers: `dns` (A/AAAA), `dns+txt` (hosts in TXT records) and
 * `dns+srv` (SRV records). Imported once, for its side effect, by the group module; a later
 * `registerResolver` for one of these schemes replaces the built-in one (to tune its timeouts
 * with `createDnsResolver(settings)`, say).
 */
import { dnsResolver } from './dns.js';
import { dnsSrvResolver } from './dns-srv.js';
import { dnsTxtResolver } from './dns-txt.js';
import { registerResolver } from './index.js';

registerResolver(dnsResolver);
registerResolver(dnsTxtResolver);
registerResolver(dnsSrvResolver);
