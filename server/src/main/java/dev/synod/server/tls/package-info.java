/**
 * TLS for both ports: certificates and keys read from PEM files and re-read when the files change
 * (new handshakes use the new material, open connections keep theirs), the credentials of the
 * client port (optionally mutual) and of the peer port (always mutual), which certificates count
 * as a member's, the refusal to serve plaintext beyond loopback unless asked, and the verified
 * client certificate handed to the request path ({@link dev.synod.server.tls.ClientCertificate}).
 */
package dev.synod.server.tls;
