package dev.synod.server.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.synod.server.config.ConfigParser;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A handler sees the verified client certificate's subject and SANs through ClientCertificate.current(). */
class ClientCertificateTest {
  @TempDir Path dir;

  @Test
  void theVerifiedClientCertificateReachesTheHandler() throws Exception {
    TestPki.Issued ca = TestPki.ca("ca");
    Path caFile = dir.resolve("ca.pem");
    TestPki.writeCerts(caFile, ca.cert());
    TestPki.Files2 server = TestPki.leaf(ca, "server", "IP:127.0.0.1").write(dir, "server");
    TestPki.Files2 alice = TestPki.leaf(ca, "alice", "DNS:alice.example", "URI:spiffe://example/alice",
        "IP:10.9.8.7").write(dir, "alice");
    TlsSetup tls = TlsSetup.load(ConfigParser.parse("--tls-cert", server.cert().toString(),
        "--tls-key", server.key().toString(), "--tls-client-ca", caFile.toString()));
    AtomicReference<Optional<ClientCertificate>> seen = new AtomicReference<>();
    Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), tls.clientPort())
        .addService(new HealthGrpc.HealthImplBase() {
          @Override
          public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
            seen.set(ClientCertificate.current());
            out.onNext(HealthCheckResponse.getDefaultInstance());
            out.onCompleted();
          }
        })
        .intercept(new ClientCertificateInterceptor())
        .build().start();
    ManagedChannel c = TlsNodes.tls(grpc.getPort(), caFile, alice);
    try {
      HealthGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      ClientCertificate id = seen.get().orElseThrow();
      assertEquals("CN=alice", id.subjectDn());
      assertEquals(List.of("alice.example"), id.sans(ClientCertificate.Kind.DNS));
      assertEquals(List.of("spiffe://example/alice"), id.sans(ClientCertificate.Kind.URI));
      assertEquals(List.of("10.9.8.7"), id.sans(ClientCertificate.Kind.IP));
      // A second call on the same connection sees the same identity (kept on the TLS session).
      HealthGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      assertEquals(id, seen.get().orElseThrow());
    } finally {
      TlsNodes.shutdown(c);
      grpc.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    assertFalse(ClientCertificate.current().isPresent(), "outside a call there is none");
  }
}
