package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.BackupChunk;
import dev.synod.api.v1.BackupHeader;
import dev.synod.api.v1.BackupRequest;
import dev.synod.server.storage.BackupFormat;
import io.grpc.ManagedChannel;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backup FILE}: streams a consistent copy of a running member's state (the Admin Backup
 * call: after a Sync, unless {@code --local}) into FILE, checks it, and prints what it holds.
 * {@code backup --inspect FILE} checks a backup file and prints the same. A server started with
 * {@code --restore FILE} founds a new cluster from it.
 */
@Command(name = "backup", description = {"Save a consistent backup of the cluster's state to FILE",
    "(a server started with --restore FILE founds a new cluster from it).",
    "With --inspect, check FILE and show what it holds."})
final class BackupCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "FILE", description = "The backup file.")
  Path file;

  @Option(names = "--inspect", description = "Check an existing backup file and show what it holds.")
  boolean inspect;

  @Option(names = "--local", description = {"Take the member's state as it is, without a Sync with the",
      "leader (for a member that cannot reach one: the majority-loss procedure)."})
  boolean local;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
      description = "How long the whole backup may take (default: ${DEFAULT-VALUE}).")
  java.time.Duration timeout;

  @Override
  public Integer call() {
    if (!inspect) {
      take();
    }
    BackupFormat.Contents contents;
    try {
      contents = BackupFormat.readFile(file);
    } catch (IOException e) {
      throw new CliException(ExitCodes.USAGE, "cannot read " + file + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.ERROR, file + ": " + e.getMessage());
    }
    show(contents);
    return ExitCodes.OK;
  }

  /** Streams the backup from the first server of --servers that answers into {@link #file}. */
  private void take() {
    CliContext.Settings s = ctx().settings();
    List<String> servers = StatusCommand.addresses(s != null ? s.servers() : root.servers);
    ChannelCredentials credentials = (s != null ? s.tls() : new CliContext.Tls(root.tlsCa, root.tlsCert, root.tlsKey))
        .credentials();
    String last = "";
    for (String address : servers) {
      int colon = address.lastIndexOf(':');
      ManagedChannel ch = Grpc.newChannelBuilderForAddress(address.substring(0, colon),
          Integer.parseInt(address.substring(colon + 1)), credentials).build();
      try {
        AdminGrpc.AdminBlockingStub stub = AdminGrpc.newBlockingStub(ch);
        String auth = s != null ? s.auth() : root.auth;
        if (auth != null && !auth.isEmpty()) { // the superuser's, when the cluster has one
          io.grpc.Metadata headers = new io.grpc.Metadata();
          headers.put(io.grpc.Metadata.Key.of("synod-auth", io.grpc.Metadata.ASCII_STRING_MARSHALLER), auth);
          stub = stub.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        Iterator<BackupChunk> chunks = stub
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .backup(BackupRequest.newBuilder().setLocal(local).build());
        BackupFormat.writeFile(file, chunks);
        return;
      } catch (StatusRuntimeException e) {
        last = address + ": " + e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
            : ": " + e.getStatus().getDescription());
      } catch (IOException e) {
        throw new CliException(ExitCodes.ERROR, "cannot write " + file + ": " + e.getMessage());
      } finally {
        ch.shutdownNow();
      }
    }
    throw new CliException(ExitCodes.UNAVAILABLE, "no backup taken (" + last + ")");
  }

  private void show(BackupFormat.Contents c) {
    BackupHeader h = c.header();
    String sha = HexFormat.of().formatHex(c.trailer().getSha256().toByteArray());
    long fileBytes;
    try {
      fileBytes = Files.size(file);
    } catch (IOException e) {
      fileBytes = -1;
    }
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("file", file.toString());
      o.addProperty("zxid", h.getZxid());
      o.addProperty("cluster_id", HexFormat.of().toHexDigits(h.getClusterId()));
      o.addProperty("member_id", h.getMemberId());
      o.addProperty("taken_at", Instant.ofEpochMilli(h.getTakenAtMs()).toString());
      o.addProperty("nodes", h.getNodeCount());
      o.addProperty("sessions", h.getSessionCount());
      o.addProperty("data_bytes", c.trailer().getDataBytes());
      o.addProperty("file_bytes", fileBytes);
      o.addProperty("sha256", sha);
      p.json(o);
      return;
    }
    p.line(file + ": zxid " + h.getZxid() + ", " + h.getNodeCount() + " nodes, " + h.getSessionCount()
        + " sessions, " + c.trailer().getDataBytes() + " bytes of data (" + fileBytes + " bytes on disk)");
    p.line("taken from member " + h.getMemberId() + " of cluster " + HexFormat.of().toHexDigits(h.getClusterId())
        + " at " + Instant.ofEpochMilli(h.getTakenAtMs()) + "; sha256 " + sha + " (checked)");
  }
}
