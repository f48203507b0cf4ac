package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.NodeKind;
import dev.synod.client.CreateOptions;
import dev.synod.client.CreateResult;
import java.time.Duration;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code create PATH [DATA]}: creates a node of any kind; prints the path created. */
@Command(name = "create", description = "Create a node; prints the path created (with its sequence number).")
final class CreateCommand extends NodeCommand {
  @Parameters(index = "0", paramLabel = "PATH", description = "The node's absolute path.")
  String path;

  @Parameters(index = "1", arity = "0..1", paramLabel = "DATA",
      description = "The value: text, @FILE for a file's bytes, - for stdin (default: empty).")
  String data;

  @ArgGroup(exclusive = true)
  Kind kind;

  @Option(names = {"-S", "--sequential"}, description = "Append a 10-digit sequence number to the name.")
  boolean sequential;

  @Option(names = "--acl", paramLabel = "SCHEME:ID:PERMS",
      description = "An ACL entry (repeatable), perms as letters rwcda: world:anyone:r,"
          + " digest:USER:HASH:cdrwa, ip:10.0.0.0/8:rw, auth::cdrwa (default: the server's default ACL).")
  java.util.List<String> acl = new java.util.ArrayList<>();

  /** At most one kind; none means persistent. */
  static final class Kind {
    @Option(names = {"-e", "--ephemeral"}, description = "Delete the node when this session ends.")
    boolean ephemeral;

    @Option(names = {"-c", "--container"}, description = "Delete the node when its last child is deleted.")
    boolean container;

    @Option(names = {"-t", "--ttl"}, paramLabel = "DURATION", converter = DurationConverter.class,
        description = "Delete the node once unmodified and childless this long (e.g. 30s).")
    Duration ttl;
  }

  @Override
  public Integer call() {
    checkPath(path);
    CreateOptions options = options();
    if (options.kind() == NodeKind.EPHEMERAL && !ctx().interactive()) {
      printer().note("synod: note: the ephemeral node is deleted when this command exits (use the shell to keep it)");
    }
    CreateResult r = client().create(path, DataSource.read(data, ctx().in), options);
    Printer p = printer();
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", r.path());
      o.add("stat", Render.stat(r.stat()));
      p.json(o);
    } else {
      p.line(r.path());
    }
    return ExitCodes.OK;
  }

  private CreateOptions options() {
    CreateOptions o = CreateOptions.PERSISTENT;
    if (kind != null && kind.ephemeral) {
      o = CreateOptions.of(NodeKind.EPHEMERAL);
    } else if (kind != null && kind.container) {
      o = CreateOptions.of(NodeKind.CONTAINER);
    } else if (kind != null && kind.ttl != null) {
      if (kind.ttl.isZero()) {
        throw CliException.usage("--ttl must be positive");
      }
      o = CreateOptions.ttl(kind.ttl);
    }
    o = o.withAcl(AclArgs.parse(acl));
    return sequential ? o.sequential() : o;
  }
}
