package dev.synod.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * ZooKeeper's digest scheme, computed exactly as its {@code DigestAuthenticationProvider}
 * does: the identity of {@code user:password} is {@code user:base64(sha1(user:password))}, so
 * digests made with ZooKeeper's tooling work here and the other way round.
 */
public final class DigestAuth {
  private DigestAuth() {}

  /**
   * The digest id of {@code userPassword} ("user:password"; the user is everything before the
   * first colon, as in ZooKeeper).
   *
   * @throws IllegalArgumentException when there is no colon
   */
  public static String digest(String userPassword) {
    int colon = userPassword.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("a digest credential is user:password");
    }
    String user = userPassword.substring(0, colon);
    return user + ":" + Base64.getEncoder().encodeToString(
        sha1(userPassword.getBytes(StandardCharsets.UTF_8)));
  }

  private static byte[] sha1(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA1").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-1", e);
    }
  }
}
