package dev.synod.tools.polyglot;

import static org.junit.jupiter.api.Assertions.fail;

import dev.synod.api.v1.SynodGrpc;
import dev.synod.api.v1.WatchEvent;
import dev.synod.api.v1.WatchKind;
import dev.synod.api.v1.WatchRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the server itself recorded about a path, read back from Java through a Watch stream that
 * replays the server's change history. It checks a foreign client's claims independently of
 * what that client printed.
 */
final class ServerHistory {
  private ServerHistory() {}

  /**
   * The first {@code count} changes of {@code path} after {@code afterZxid} (which must be
   * non-zero: zero would mean "from now"), waiting at most {@code limit} for them.
   */
  static List<WatchEvent> changesOf(Channel channel, String path, long afterZxid, int count,
      Duration limit) {
    if (afterZxid == 0) {
      throw new IllegalArgumentException("afterZxid 0 would watch from now instead of replaying");
    }
    List<WatchEvent> events = new ArrayList<>();
    Context.CancellableContext context = Context.current().withCancellation();
    try {
      context.run(() -> {
        Iterator<WatchEvent> stream = SynodGrpc.newBlockingStub(channel)
            .withDeadlineAfter(limit.toMillis(), TimeUnit.MILLISECONDS)
            .watch(WatchRequest.newBuilder().setPath(path).setKind(WatchKind.WATCH_PERSISTENT)
                .setStartZxid(afterZxid).build());
        while (events.size() < count) {
          events.add(stream.next());
        }
      });
    } catch (StatusRuntimeException e) {
      fail("the server recorded " + events.size() + " of " + count + " expected changes of " + path
          + " after zxid " + afterZxid + " (" + e.getStatus() + "): " + events);
    } finally {
      context.cancel(null);
    }
    return events;
  }
}
