package dev.synod.server.replication;

import dev.synod.api.v1.ListMembersResponse;
import java.util.concurrent.CompletableFuture;

/** What the Admin service needs of replication for membership: a view and changes (any thread). */
public interface MemberAdmin {
  /** The latest decided membership this member knows, with lags when it leads. */
  ListMembersResponse listMembers();

  /** A change, answered once it took effect on the leader, was refused, or timed out. */
  CompletableFuture<MemberChanges.Outcome> changeMembers(MemberChanges.Request request, long timeoutMs);
}
