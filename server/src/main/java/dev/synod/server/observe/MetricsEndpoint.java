package dev.synod.server.observe;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The operator's HTTP port, on the JDK's own HTTP server (no web framework): {@code GET /metrics}
 * (Prometheus text format), {@code GET /healthz} (200 while the process runs) and
 * {@code GET /readyz} (200 when {@link Readiness} says ready, else 503; the body says why).
 * Plain HTTP: bind it to an address only the monitoring network reaches.
 */
public final class MetricsEndpoint implements AutoCloseable {
  /** Prometheus's text exposition format. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "synod-metrics-http");
    t.setDaemon(true);
    return t;
  });

  /**
   * Binds {@code host:port} (0: a free port) at once, so a port in use fails the start.
   *
   * @throws IOException the address cannot be bound
   */
  public MetricsEndpoint(String host, int port, Supplier<String> metrics, Readiness readiness)
      throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 16);
    server.setExecutor(executor);
    server.createContext("/metrics", exchange -> answer(exchange, 200, PROMETHEUS_TEXT, metrics.get()));
    server.createContext("/healthz", exchange -> answer(exchange, 200, "text/plain; charset=utf-8", "ok\n"));
    server.createContext("/readyz", exchange -> {
      Readiness.Verdict v = readiness.check();
      answer(exchange, v.ready() ? 200 : 503, "text/plain; charset=utf-8",
          (v.ready() ? "ready: " : "not ready: ") + v.reason() + "\n");
    });
    server.createContext("/", exchange -> answer(exchange, 404, "text/plain; charset=utf-8",
        "not found: try /metrics, /healthz or /readyz\n"));
  }

  public void start() {
    server.start();
  }

  /** The port bound (useful with port 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void answer(HttpExchange exchange, int code, String type, String body) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      boolean exact = exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath());
      if (!exact && code != 404) {
        code = 404;
        body = "not found\n";
      } else if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        code = 405;
        body = "method not allowed\n";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", type);
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(code, -1);
        return;
      }
      exchange.sendResponseHeaders(code, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
