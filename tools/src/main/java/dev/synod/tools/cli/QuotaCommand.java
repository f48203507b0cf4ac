package dev.synod.tools.cli;

import com.google.gson.JsonObject;
import dev.synod.api.v1.GetQuotaResponse;
import dev.synod.api.v1.Quota;
import dev.synod.api.v1.QuotaUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code quota set|get|delete PATH}: a subtree's limits on node count and data bytes. */
@Command(name = "quota", description = {"Subtree quotas (set and delete need ADMIN on the node):",
    "  quota set PATH [--count N] [--bytes N] [--soft-count N] [--soft-bytes N]",
    "  quota get PATH", "  quota delete PATH"})
final class QuotaCommand extends NodeCommand {
  enum Action { set, get, delete }

  @Parameters(index = "0", paramLabel = "set|get|delete")
  Action action;

  @Parameters(index = "1", paramLabel = "PATH")
  String path;

  @Option(names = "--count", paramLabel = "N", description = "Most nodes in the subtree, itself included (hard).")
  long count;

  @Option(names = "--bytes", paramLabel = "N", description = "Most data bytes in the subtree (hard).")
  long bytes;

  @Option(names = "--soft-count", paramLabel = "N", description = "Node count reported when exceeded.")
  long softCount;

  @Option(names = "--soft-bytes", paramLabel = "N", description = "Data bytes reported when exceeded.")
  long softBytes;

  @Override
  public Integer call() {
    checkPath(path);
    Printer p = printer();
    switch (action) {
      case set -> {
        if (count < 0 || bytes < 0 || softCount < 0 || softBytes < 0) {
          throw CliException.usage("quota limits are >= 0 (0: none)");
        }
        if (count == 0 && bytes == 0 && softCount == 0 && softBytes == 0) {
          throw CliException.usage("quota set needs a limit (--count, --bytes, --soft-count, --soft-bytes);"
              + " quota delete removes one");
        }
        QuotaUsage usage = client().setQuota(path, Quota.newBuilder().setCountHard(count)
            .setBytesHard(bytes).setCountSoft(softCount).setBytesSoft(softBytes).build());
        print(p, Quota.newBuilder().setCountHard(count).setBytesHard(bytes).setCountSoft(softCount)
            .setBytesSoft(softBytes).build(), usage, true);
      }
      case delete -> client().setQuota(path, Quota.getDefaultInstance());
      case get -> {
        GetQuotaResponse q = client().getQuota(path);
        print(p, q.getQuota(), q.getUsage(), q.getHasQuota());
      }
    }
    return ExitCodes.OK;
  }

  private void print(Printer p, Quota q, QuotaUsage usage, boolean has) {
    if (p.json()) {
      JsonObject o = new JsonObject();
      o.addProperty("path", path);
      o.addProperty("has_quota", has);
      if (has) {
        o.addProperty("count_hard", q.getCountHard());
        o.addProperty("bytes_hard", q.getBytesHard());
        o.addProperty("count_soft", q.getCountSoft());
        o.addProperty("bytes_soft", q.getBytesSoft());
        o.addProperty("count", usage.getCount());
        o.addProperty("bytes", usage.getBytes());
      }
      p.json(o);
      return;
    }
    if (!has) {
      p.line("no quota on " + path);
      return;
    }
    p.line("count " + usage.getCount() + " (hard " + limit(q.getCountHard()) + ", soft " + limit(q.getCountSoft()) + ")");
    p.line("bytes " + usage.getBytes() + " (hard " + limit(q.getBytesHard()) + ", soft " + limit(q.getBytesSoft()) + ")");
  }

  private static String limit(long n) {
    return n == 0 ? "none" : Long.toString(n);
  }
}
