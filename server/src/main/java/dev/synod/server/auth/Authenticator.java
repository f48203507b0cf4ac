package dev.synod.server.auth;

import dev.synod.api.v1.Credential;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.Identity;
import dev.synod.server.state.SynodException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns credentials into the identities they prove, on the server where a client connects. Only
 * the {@code digest} scheme takes credentials ({@code user:password}); ip and x509 identities come
 * from the connection itself. A digest credential proves {@code digest:user:base64(sha1(...))}
 * whatever the password (ZooKeeper's rule: a wrong password simply proves an identity no ACL
 * names), except for the superuser's name: with the right password it also proves {@code super},
 * with a wrong one it is refused (AUTH_FAILED), so a mistyped superuser login is not silently
 * anonymous.
 *
 * <p>Error messages never carry the credential or the password (nor the user: it may be a
 * mistyped password pasted into the wrong field).
 */
public final class Authenticator {
  private final String superUser;
  private final byte[] superDigest;

  /** @param superuserDigest "user:base64(sha1(user:password))", or "" for no superuser */
  public Authenticator(String superuserDigest) {
    if (superuserDigest.isEmpty()) {
      superUser = null;
      superDigest = null;
    } else {
      String problem = Acls.idProblem(Acls.DIGEST, superuserDigest);
      if (problem != null) {
        throw new IllegalArgumentException("superuser-digest: " + problem
            + " (make one with: java -cp synod-server.jar dev.synod.server.auth.DigestMain user:password)");
      }
      superUser = superuserDigest.substring(0, superuserDigest.indexOf(':'));
      superDigest = superuserDigest.getBytes(StandardCharsets.UTF_8);
    }
  }

  /** The identities {@code credential} proves; AUTH_FAILED when it proves nothing. */
  public List<Identity> prove(Credential credential) throws SynodException {
    String scheme = credential.getScheme();
    if (!Acls.DIGEST.equals(scheme)) {
      throw failed(scheme.isEmpty() ? "a credential needs a scheme (digest)"
          : "credentials of scheme '" + scheme + "' are not accepted (digest; ip and x509 come"
              + " from the connection)");
    }
    String userPassword = credential.getAuth().toString(StandardCharsets.UTF_8);
    int colon = userPassword.indexOf(':');
    if (colon <= 0) {
      throw failed("a digest credential is user:password");
    }
    String digest = DigestAuth.digest(userPassword);
    List<Identity> proved = new ArrayList<>(2);
    if (superUser != null && superUser.equals(userPassword.substring(0, colon))) {
      if (!MessageDigest.isEqual(superDigest, digest.getBytes(StandardCharsets.UTF_8))) {
        throw failed("digest credentials were refused");
      }
      proved.add(Identities.identity(Acls.SUPER, superUser));
    }
    proved.add(Identities.identity(Acls.DIGEST, digest));
    return proved;
  }

  /** The identities all of {@code credentials} prove; AUTH_FAILED if any proves nothing. */
  public Identities proveAll(List<Credential> credentials) throws SynodException {
    List<Identity> all = new ArrayList<>();
    for (Credential c : credentials) {
      all.addAll(prove(c));
    }
    return Identities.of(all);
  }

  /**
   * A credential as the {@code synod-auth} header and the CLI write it: "scheme:auth", e.g.
   * "digest:bob:secret".
   */
  public static Credential parseHeader(String text) throws SynodException {
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw failed("a credential is scheme:auth, e.g. digest:user:password");
    }
    return Credential.newBuilder().setScheme(text.substring(0, colon))
        .setAuth(com.google.protobuf.ByteString.copyFromUtf8(text.substring(colon + 1))).build();
  }

  private static SynodException failed(String message) {
    return new SynodException(ErrorReason.AUTH_FAILED, "authentication failed: " + message);
  }
}
