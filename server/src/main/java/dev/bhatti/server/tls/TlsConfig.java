package dev.bhatti.server.tls;

import java.net.URI;
import java.nio.file.Path;
import dev.bhatti.server.net.DnsNames;

import java.time.Duration;
import java.util.Optional;

/**
 * {@code proxy.tls:} in config.yaml: HTTPS for published ports, with one certificate given as files
 * (a wildcard for {@code *.<domain>}, re-read when the files change) or one certificate per alias from
 * an ACME CA (Let's Encrypt, or any RFC 8555 server), validated over http-01 on the plain listener.
 * With {@code api_host}, the same listener also serves the API (and the shared web shell) under that
 * name, so that keys and share tokens never cross the network in the clear.
 * <pre>
 * proxy:
 *   listen: 0.0.0.0:80                # plain HTTP: ACME challenges, and redirects to https
 *   domain: sandbox.example.com
 *   tls:
 *     listen: 0.0.0.0:443
 *     public_port: 443                # the port in URLs (default: the listen port)
 *     cert_file: /etc/bhatti/tls/fullchain.pem
 *     key_file: /etc/bhatti/tls/privkey.pem
 *     reload_check_sec: 10            # how often the files are checked for a new certificate
 *     api_host: api.example.com       # optional: the API over https under this name (its certificate too)
 *     # or, instead of the files:
 *     acme:
 *       directory: https://acme-v02.api.letsencrypt.org/directory
 *       email: ops@example.com
 *       ca_file: /path/ca.pem         # optional: a CA to trust for the directory's own HTTPS (test CAs)
 * </pre>
 */
public record TlsConfig(String host, int port, int publicPort, Path certFile, Path keyFile, Duration reloadCheck, Acme acme,
                        String apiHost) {

    /** An ACME CA: its directory URL, the account's contact, and an extra CA to trust when talking to it. */
    public record Acme(URI directory, String email, Path caFile) {
        public Acme {
            if (directory == null || !"https".equals(directory.getScheme())) {
                throw new IllegalArgumentException("proxy.tls.acme.directory must be an https:// URL");
            }
            if (email != null && !email.matches("[^@\\s]+@[^@\\s]+")) throw new IllegalArgumentException("proxy.tls.acme.email is not an e-mail address: " + email);
        }
    }

    public TlsConfig {
        if (port < 0 || port > 65535 || publicPort < 1 || publicPort > 65535) throw new IllegalArgumentException("proxy.tls ports must be 1 to 65535");
        boolean files = certFile != null || keyFile != null;
        if (files == (acme != null)) {
            throw new IllegalArgumentException("proxy.tls needs either cert_file and key_file, or acme (not both)");
        }
        if (files && (certFile == null || keyFile == null)) throw new IllegalArgumentException("proxy.tls needs both cert_file and key_file");
        if (reloadCheck.isNegative() || reloadCheck.isZero()) throw new IllegalArgumentException("proxy.tls.reload_check_sec must be > 0");
        if (apiHost != null && !DnsNames.NAME.matcher(apiHost).matches()) {
            throw new IllegalArgumentException("proxy.tls.api_host must be a lower-case DNS name, got '" + apiHost + "'");
        }
    }

    /** The API's https URL (no trailing slash), when it is served here. */
    public Optional<String> apiUrl() {
        return Optional.ofNullable(apiHost).map(h -> "https://" + h + (publicPort == 443 ? "" : ":" + publicPort));
    }

    public TlsConfig withPort(int actual) {
        return new TlsConfig(host, actual, publicPort == port ? actual : publicPort, certFile, keyFile, reloadCheck, acme, apiHost);
    }
}
