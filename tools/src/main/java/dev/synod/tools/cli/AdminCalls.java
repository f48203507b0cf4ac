package dev.synod.tools.cli;

import dev.synod.api.v1.AdminGrpc;
import dev.synod.api.v1.ListMembersRequest;
import dev.synod.api.v1.ListMembersResponse;
import dev.synod.api.v1.StatusRequest;
import dev.synod.api.v1.StatusResponse;
import dev.synod.api.v1.SynodGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The Admin calls of the membership commands: finds the leader among the servers of --servers
 * (their Status says who they are and whom they follow) and makes the change there, retrying
 * while another change is in progress (ABORTED) until the deadline. Channels are the CLI's own,
 * sessionless; the superuser's credentials go in the synod-auth header, as for backup.
 */
final class AdminCalls implements AutoCloseable {
  /** Between retries of a change refused because another one is in progress. */
  static final long BUSY_RETRY_MS = 200;

  private final List<String> addresses;
  private final ChannelCredentials credentials;
  private final String auth;
  private final Duration timeout;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();

  AdminCalls(NodeCommandContext c, Duration timeout) {
    this.addresses = StatusCommand.addresses(c.servers());
    this.credentials = c.tls().credentials();
    this.auth = c.auth() == null ? "" : c.auth();
    this.timeout = timeout;
  }

  /** What the membership commands need of the global options. */
  record NodeCommandContext(String servers, CliContext.Tls tls, String auth) {
    static NodeCommandContext of(SynodCli root) {
      CliContext.Settings s = root.context().settings();
      return s != null ? new NodeCommandContext(s.servers(), s.tls(), s.auth())
          : new NodeCommandContext(root.servers, new CliContext.Tls(root.tlsCa, root.tlsCert, root.tlsKey), root.auth);
    }
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, a -> {
      int colon = a.lastIndexOf(':');
      return Grpc.newChannelBuilderForAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1)),
          credentials).build();
    });
  }

  AdminGrpc.AdminBlockingStub admin(String address, long deadlineMs) {
    AdminGrpc.AdminBlockingStub stub = AdminGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(Math.max(1, deadlineMs), TimeUnit.MILLISECONDS);
    if (!auth.isEmpty()) {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("synod-auth", Metadata.ASCII_STRING_MARSHALLER), auth);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return stub;
  }

  /** The client address of the server that leads now, waiting (until the deadline) for one. */
  String leader(long deadlineNanos) {
    String seen = "";
    do {
      Map<Integer, String> byId = new LinkedHashMap<>();
      int leaderId = 0;
      for (String address : addresses) {
        try {
          StatusResponse st = SynodGrpc.newBlockingStub(channel(address))
              .withDeadlineAfter(2, TimeUnit.SECONDS).status(StatusRequest.getDefaultInstance());
          byId.put(st.getServerId(), address);
          if (st.getLeaderId() != 0 && st.getLeaderId() == st.getServerId()) {
            return address;
          }
          leaderId = st.getLeaderId() != 0 ? st.getLeaderId() : leaderId;
        } catch (StatusRuntimeException e) {
          // unreachable: ask the others
        }
      }
      seen = byId.isEmpty() ? "no server of " + String.join(",", addresses) + " answered"
          : leaderId != 0 ? "the leader is server " + leaderId + ", which is not in --servers (servers "
              + byId.keySet() + " are)" : "no leader is known";
      sleep(BUSY_RETRY_MS);
    } while (System.nanoTime() - deadlineNanos < 0);
    throw new CliException(ExitCodes.UNAVAILABLE, seen);
  }

  /** The members as the first server that answers knows them (the leader's view has lags). */
  ListMembersResponse list() {
    long deadline = System.nanoTime() + timeout.toNanos();
    String address;
    try {
      address = leader(Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(3)));
    } catch (CliException noLeader) {
      address = null;
    }
    List<String> order = new ArrayList<>();
    if (address != null) {
      order.add(address);
    }
    order.addAll(addresses);
    String last = "";
    for (String a : order) {
      try {
        return admin(a, timeout.toMillis()).listMembers(ListMembersRequest.getDefaultInstance());
      } catch (StatusRuntimeException e) {
        last = a + ": " + describe(e);
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
          throw failure(e);
        }
      }
    }
    throw new CliException(ExitCodes.UNAVAILABLE, "no server answered (" + last + ")");
  }

  /**
   * Makes a change on the leader: retried while it is refused as busy, or because leadership
   * moved meanwhile, until the deadline.
   */
  ListMembersResponse change(Function<AdminGrpc.AdminBlockingStub, ListMembersResponse> call) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String leader = leader(deadline);
      long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      try {
        return call.apply(admin(leader, leftMs));
      } catch (StatusRuntimeException e) {
        boolean retry = e.getStatus().getCode() == Status.Code.ABORTED
            || e.getStatus().getCode() == Status.Code.UNAVAILABLE
            || (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION && e.getTrailers() != null
                && e.getTrailers().containsKey(Metadata.Key.of("synod-leader-id", Metadata.ASCII_STRING_MARSHALLER)));
        if (!retry || System.nanoTime() - deadline >= 0) {
          throw failure(e);
        }
        sleep(BUSY_RETRY_MS);
      }
    }
  }

  static CliException failure(StatusRuntimeException e) {
    int code = switch (e.getStatus().getCode()) {
      case UNAVAILABLE, DEADLINE_EXCEEDED -> ExitCodes.UNAVAILABLE;
      case PERMISSION_DENIED -> ExitCodes.NO_AUTH;
      case UNAUTHENTICATED -> ExitCodes.AUTH_FAILED;
      case INVALID_ARGUMENT -> ExitCodes.USAGE;
      default -> ExitCodes.ERROR;
    };
    return new CliException(code, describe(e));
  }

  static String describe(StatusRuntimeException e) {
    String d = e.getStatus().getDescription();
    return e.getStatus().getCode() + (d == null ? "" : ": " + d);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.INTERRUPTED, "interrupted");
    }
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
