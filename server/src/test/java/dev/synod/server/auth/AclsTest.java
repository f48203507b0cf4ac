package dev.synod.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.Credential;
import dev.synod.api.v1.ErrorReason;
import dev.synod.server.state.SynodException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ZooKeeper's schemes: digests, ids, matching, the auth scheme, the superuser. */
class AclsTest {
  private static Acl acl(String scheme, String id, int perms) {
    return Acl.newBuilder().setScheme(scheme).setId(id).setPerms(perms).build();
  }

  private static Identities who(String... schemeIds) {
    List<dev.synod.api.v1.Identity> ids = new java.util.ArrayList<>();
    for (int i = 0; i < schemeIds.length; i += 2) {
      ids.add(Identities.identity(schemeIds[i], schemeIds[i + 1]));
    }
    return Identities.of(ids);
  }

  @Test
  void digestIsZooKeepersDigest() {
    // The value ZooKeeper's documentation gives for super:admin (DigestAuthenticationProvider),
    // the same as: echo -n super:admin | openssl dgst -binary -sha1 | openssl base64
    assertEquals("super:xQJmxLMiHGwaqBvst5y6rkB6HQs=", DigestAuth.digest("super:admin"));
    assertEquals("bob:fyVmFCwVbTJYrznoSu1koqYEYF0=", DigestAuth.digest("bob:secret"));
    // Only the first colon separates the user: the password may hold colons.
    assertEquals("u", DigestAuth.digest("u:p:q").split(":")[0]);
  }

  @Test
  void schemesAndIdsAreValidatedAsZooKeeperDoes() throws SynodException {
    Acls.checkEntries(List.of(acl("world", "anyone", 31), acl("digest", "bob:abc=", 1),
        acl("ip", "10.0.0.0/8", 1), acl("ip", "127.0.0.1", 1), acl("ip", "::1", 1),
        acl("ip", "fe80::/10", 1), acl("x509", "CN=app,O=Example", 1), acl("auth", "", 1)), "/a");
    for (Acl bad : List.of(acl("bogus", "x", 1), acl("world", "everyone", 1), acl("digest", "bob", 1),
        acl("digest", "bob:a:b", 1), acl("ip", "example.com", 1), acl("ip", "10.0.0.0/33", 1),
        acl("ip", "1.2.3", 1), acl("ip", "256.1.1.1", 1), acl("x509", "", 1), acl("super", "x", 1),
        acl("", "x", 1), acl("world", "anyone", 0), acl("world", "anyone", 32))) {
      SynodException e = assertThrows(SynodException.class, () -> Acls.checkEntries(List.of(bad), "/a"),
          bad.toString());
      assertEquals(ErrorReason.INVALID_ACL, e.reason());
    }
  }

  @Test
  void matching() {
    List<Acl> acl = List.of(acl("digest", "bob:h=", Acls.READ), acl("ip", "10.1.0.0/16", Acls.WRITE),
        acl("x509", "CN=app", Acls.ADMIN));
    assertTrue(Acls.permits(acl, Acls.READ, who("digest", "bob:h=")));
    assertFalse(Acls.permits(acl, Acls.WRITE, who("digest", "bob:h=")));
    assertFalse(Acls.permits(acl, Acls.READ, who("digest", "bob:other=")));
    assertTrue(Acls.permits(acl, Acls.WRITE, who("ip", "10.1.200.3")));
    assertFalse(Acls.permits(acl, Acls.WRITE, who("ip", "10.2.0.1")));
    assertFalse(Acls.permits(acl, Acls.WRITE, who("ip", "::1")));
    assertTrue(Acls.permits(acl, Acls.ADMIN, who("x509", "CN=app")));
    assertFalse(Acls.permits(acl, Acls.ADMIN, who("digest", "CN=app")), "schemes must match");
    assertTrue(Acls.permits(acl, Acls.READ | Acls.ADMIN, who("x509", "CN=app")), "any of the bits");
    assertFalse(Acls.permits(acl, Acls.DELETE, Identities.ANONYMOUS));
    assertTrue(Acls.permits(acl, Acls.DELETE, who("super", "root")), "the superuser");
    assertTrue(Acls.permits(List.of(Acls.WORLD_ANYONE_ALL), Acls.DELETE, Identities.ANONYMOUS));
    assertTrue(Acls.permits(List.of(acl("ip", "::1", 1)), 1, who("ip", "0:0:0:0:0:0:0:1")));
  }

  @Test
  void authSchemeBecomesTheCallersProvedIdentities() throws SynodException {
    Identities alice = who("ip", "127.0.0.1", "digest", "alice:h=", "x509", "CN=a", "super", "alice");
    assertEquals(List.of(acl("digest", "alice:h=", 5), acl("x509", "CN=a", 5), acl("world", "anyone", 1)),
        Acls.resolve(List.of(acl("auth", "", 5), acl("world", "anyone", 1)), alice, "/a"));
    SynodException e = assertThrows(SynodException.class,
        () -> Acls.resolve(List.of(acl("auth", "", 31)), who("ip", "127.0.0.1"), "/a"));
    assertEquals(ErrorReason.INVALID_ACL, e.reason());
  }

  @Test
  void parsesZkCliAcls() {
    assertEquals(acl("digest", "bob:abc=", 31), Acls.parse("digest:bob:abc=:cdrwa"));
    assertEquals(acl("world", "anyone", 1), Acls.parse("world:anyone:r"));
    assertEquals(acl("ip", "10.0.0.0/8", 3), Acls.parse("ip:10.0.0.0/8:3"));
    assertEquals(acl("auth", "", 24), Acls.parse("auth::da"));
    assertThrows(IllegalArgumentException.class, () -> Acls.parse("world:anyone:rx"));
    assertThrows(IllegalArgumentException.class, () -> Acls.parse("world"));
  }

  @Test
  void aListSplitsBetweenEntriesNotInsideAnX509Subject() {
    // An x509 id is an RFC 2253 DN, whose RDNs are separated by commas too (--default-acl).
    assertEquals(List.of(acl("x509", "CN=app,O=Example,C=DE", 31), acl("world", "anyone", 1)),
        Acls.parseList("x509:CN=app,O=Example,C=DE:cdrwa, world:anyone:r"));
    assertEquals(List.of(acl("digest", "bob:abc=", 31), acl("ip", "10.0.0.0/8", 1)),
        Acls.parseList("digest:bob:abc=:cdrwa,ip:10.0.0.0/8:r"));
    // An escaped comma inside a value, followed by something that looks like a scheme.
    assertEquals(List.of(acl("x509", "CN=a\\,b:c,O=X", 1)), Acls.parseList("x509:CN=a\\,b:c,O=X:r"));
    assertThrows(IllegalArgumentException.class, () -> Acls.parseList("world:anyone:r,bogus"));
  }

  @Test
  void authenticatorProvesDigestsAndGuardsTheSuperuser() throws SynodException {
    Authenticator auth = new Authenticator(DigestAuth.digest("root:toor"));
    assertEquals(List.of(Identities.identity("digest", DigestAuth.digest("bob:pw"))),
        auth.prove(cred("digest", "bob:pw")));
    assertTrue(Identities.of(auth.prove(cred("digest", "root:toor"))).isSuper());
    for (Credential bad : List.of(cred("digest", "root:wrong"), cred("digest", "nocolon"),
        cred("digest", ":pw"), cred("ip", "1.2.3.4"), cred("super", "x"), cred("", "a:b"))) {
      SynodException e = assertThrows(SynodException.class, () -> auth.prove(bad));
      assertEquals(ErrorReason.AUTH_FAILED, e.reason());
      assertFalse(e.getMessage().contains("wrong") || e.getMessage().contains("toor"),
          "no password in: " + e.getMessage());
    }
    assertFalse(Identities.of(new Authenticator("").prove(cred("digest", "root:toor"))).isSuper());
  }

  private static Credential cred(String scheme, String auth) {
    return Credential.newBuilder().setScheme(scheme).setAuth(ByteString.copyFromUtf8(auth)).build();
  }
}
