package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetAclRequest;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.SynodGrpc;
import dev.synod.server.SynodNode;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.grpc.ErrorStatus;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The x509 scheme end to end: over mutual TLS, a client's certificate subject is an identity an
 * ACL can name (ZooKeeper's x509 scheme); another client of the same CA is refused with NO_AUTH,
 * and "auth" at create grants the creator's certificate.
 */
class X509AclTest {
  @TempDir Path dir;

  @Test
  void aNodeOfAlicesCertificateIsReadByAliceOnly() throws Exception {
    TestPki.Issued ca = TestPki.ca("Synod test CA");
    Path caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    TestPki.Files2 server = TestPki.leaf(ca, "synod-server", "IP:127.0.0.1").write(dir, "server");
    TestPki.Files2 alice = TestPki.leaf(ca, "alice").write(dir, "alice");
    TestPki.Files2 bob = TestPki.leaf(ca, "bob").write(dir, "bob");
    try (SynodNode node = TlsNodes.start(dir.resolve("data"), "--tls-cert", server.cert().toString(),
        "--tls-key", server.key().toString(), "--tls-client-ca", caFile.toString())) {
      ManagedChannel asAlice = TlsNodes.tls(node.port(), caFile, alice);
      ManagedChannel asBob = TlsNodes.tls(node.port(), caFile, bob);
      try {
        SynodGrpc.SynodBlockingStub a = SynodGrpc.newBlockingStub(asAlice).withDeadlineAfter(10, TimeUnit.SECONDS);
        SynodGrpc.SynodBlockingStub b = SynodGrpc.newBlockingStub(asBob).withDeadlineAfter(10, TimeUnit.SECONDS);
        a.create(CreateRequest.newBuilder().setPath("/by-name").setData(ByteString.copyFromUtf8("a"))
            .setKind(NodeKind.PERSISTENT)
            .addAcl(Acl.newBuilder().setScheme("x509").setId("CN=alice").setPerms(31)).build());
        a.create(CreateRequest.newBuilder().setPath("/by-auth").setData(ByteString.copyFromUtf8("b"))
            .setKind(NodeKind.PERSISTENT).addAcl(Acl.newBuilder().setScheme("auth").setPerms(31)).build());
        for (String path : new String[] {"/by-name", "/by-auth"}) {
          assertEquals(path.equals("/by-name") ? "a" : "b",
              a.getData(GetDataRequest.newBuilder().setPath(path).build()).getData().toStringUtf8());
          StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
              () -> b.getData(GetDataRequest.newBuilder().setPath(path).build()));
          assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode(), path);
          assertEquals(ErrorReason.NO_AUTH, ErrorStatus.reasonOf(denied), path);
        }
      } finally {
        TlsNodes.shutdown(asAlice, asBob);
      }
    }
  }

  @Test
  void withX509IdentityUriTheCertificatesUriSansAreTheIdentityAndTheSubjectIsNot() throws Exception {
    TestPki.Issued ca = TestPki.ca("Synod test CA");
    Path caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    TestPki.Files2 server = TestPki.leaf(ca, "synod-server", "IP:127.0.0.1").write(dir, "server");
    TestPki.Files2 alice = TestPki.leaf(ca, "alice", "DNS:alice.example",
        "URI:spiffe://example.org/alice", "URI:spiffe://example.org/ops").write(dir, "alice");
    TestPki.Files2 bob = TestPki.leaf(ca, "bob", "URI:spiffe://example.org/bob").write(dir, "bob");
    try (SynodNode node = TlsNodes.start(dir.resolve("data"), "--tls-cert", server.cert().toString(),
        "--tls-key", server.key().toString(), "--tls-client-ca", caFile.toString(), "--x509-identity", "uri")) {
      ManagedChannel asAlice = TlsNodes.tls(node.port(), caFile, alice);
      ManagedChannel asBob = TlsNodes.tls(node.port(), caFile, bob);
      try {
        SynodGrpc.SynodBlockingStub a = SynodGrpc.newBlockingStub(asAlice).withDeadlineAfter(10, TimeUnit.SECONDS);
        SynodGrpc.SynodBlockingStub b = SynodGrpc.newBlockingStub(asBob).withDeadlineAfter(10, TimeUnit.SECONDS);
        String[][] nodes = {
            {"/by-first-uri", "spiffe://example.org/alice", "alice"},
            {"/by-second-uri", "spiffe://example.org/ops", "alice"},
            {"/by-subject", "CN=alice", "nobody"}, // the DN is no identity in this mode
            {"/by-dns", "alice.example", "nobody"}, // nor a SAN of another kind
            {"/by-bobs-uri", "spiffe://example.org/bob", "bob"}};
        for (String[] n : nodes) {
          a.create(CreateRequest.newBuilder().setPath(n[0]).setKind(NodeKind.PERSISTENT)
              .addAcl(Acl.newBuilder().setScheme("x509").setId(n[1]).setPerms(31)).build());
        }
        for (String[] n : nodes) {
          for (String who : new String[] {"alice", "bob"}) {
            SynodGrpc.SynodBlockingStub stub = who.equals("alice") ? a : b;
            GetDataRequest get = GetDataRequest.newBuilder().setPath(n[0]).build();
            if (n[2].equals(who)) {
              stub.getData(get);
            } else {
              StatusRuntimeException denied = assertThrows(StatusRuntimeException.class, () -> stub.getData(get),
                  who + " reads " + n[0]);
              assertEquals(ErrorReason.NO_AUTH, ErrorStatus.reasonOf(denied), n[0]);
            }
          }
        }
        // "auth" at create: every URI of the creator's certificate.
        a.create(CreateRequest.newBuilder().setPath("/by-auth").setKind(NodeKind.PERSISTENT)
            .addAcl(Acl.newBuilder().setScheme("auth").setPerms(31)).build());
        assertEquals(List.of("spiffe://example.org/alice", "spiffe://example.org/ops"),
            a.getAcl(GetAclRequest.newBuilder().setPath("/by-auth").build()).getAclList().stream()
                .map(Acl::getId).toList());
      } finally {
        TlsNodes.shutdown(asAlice, asBob);
      }
    }
  }

  @Test
  void anX509IdentityNamingNoPartOfACertificateIsRefusedAtStart() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ConfigParser.parse("--x509-identity", "cn"));
    assertTrue(e.getMessage().contains("x509-identity"), e.getMessage());
  }
}
