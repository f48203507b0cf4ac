package dev.synod.server.auth;

/**
 * Prints the digest id of user:password (for --superuser-digest and digest ACL entries), as
 * ZooKeeper's {@code DigestAuthenticationProvider} main does.
 */
public final class DigestMain {
  private DigestMain() {}

  public static void main(String[] args) {
    if (args.length == 0) {
      System.err.println("usage: DigestMain user:password ...");
      System.exit(2);
    }
    for (String arg : args) {
      System.out.println(DigestAuth.digest(arg));
    }
  }
}
