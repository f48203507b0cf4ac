package dev.synod.server.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.synod.api.v1.Acl;
import dev.synod.api.v1.CreateRequest;
import dev.synod.api.v1.DeleteRequest;
import dev.synod.api.v1.ErrorReason;
import dev.synod.api.v1.GetDataRequest;
import dev.synod.api.v1.MultiRequest;
import dev.synod.api.v1.NodeKind;
import dev.synod.api.v1.Op;
import dev.synod.api.v1.Request;
import dev.synod.api.v1.SetAclRequest;
import dev.synod.api.v1.SetDataRequest;
import dev.synod.server.config.ConfigParser;
import dev.synod.server.state.ReplicatedLimits;
import dev.synod.server.state.SynodException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** What the server where a request enters refuses before the log, by its own settings. */
class RequestValidatorTest {
  private final RequestValidator validator;

  RequestValidatorTest() throws IOException {
    validator = new RequestValidator(ConfigParser.parse("--path-bytes-max", "16",
        "--data-bytes-max", "8", "--recent-results-per-session", "7").validate());
  }

  private SynodException refused(ErrorReason reason, Request.Builder request) {
    SynodException e = assertThrows(SynodException.class, () -> validator.writeTxn(request.build()));
    assertEquals(reason, e.reason(), e.getMessage());
    return e;
  }

  private static Request.Builder create(CreateRequest.Builder create) {
    return Request.newBuilder().setCreate(create);
  }

  @Test
  void aSequentialPathIsMeasuredWithItsCounter() throws SynodException {
    validator.writeTxn(create(CreateRequest.newBuilder().setPath("/q/").setSequential(true)).build());
    validator.writeTxn(create(CreateRequest.newBuilder().setPath("/q/abcdefghijkl")).build());
    SynodException e = refused(ErrorReason.INVALID_PATH,
        create(CreateRequest.newBuilder().setPath("/q/abcd").setSequential(true)));
    assertTrue(e.getMessage().contains("17 with the sequence number"), e.getMessage());
    assertEquals("/q/abcd", e.path());
  }

  @Test
  void thePathLimitIsForCreatesOnlyOtherOpsNameExistingNodes() throws SynodException {
    String longPath = "/" + "x".repeat(100);
    refused(ErrorReason.INVALID_PATH, create(CreateRequest.newBuilder().setPath(longPath)));
    validator.writeTxn(Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath(longPath)).build());
    validator.checkRead(Request.newBuilder().setGetData(GetDataRequest.newBuilder().setPath(longPath)).build());
    refused(ErrorReason.INVALID_PATH, Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath("/a//b")));
  }

  @Test
  void valuesOverTheLimitAreRefused() throws SynodException {
    validator.writeTxn(create(CreateRequest.newBuilder().setPath("/a").setData(ByteString.copyFromUtf8("12345678"))).build());
    refused(ErrorReason.VALUE_TOO_LARGE,
        create(CreateRequest.newBuilder().setPath("/a").setData(ByteString.copyFromUtf8("123456789"))));
    refused(ErrorReason.VALUE_TOO_LARGE, Request.newBuilder().setSetData(
        SetDataRequest.newBuilder().setPath("/a").setData(ByteString.copyFromUtf8("123456789"))));
  }

  @Test
  void kindTtlAndAclRulesAreCheckedHereToo() throws SynodException {
    SynodException e = refused(ErrorReason.INVALID_TTL,
        create(CreateRequest.newBuilder().setPath("/t").setKind(NodeKind.TTL).setTtlMs(Long.MAX_VALUE)));
    assertTrue(e.getMessage().contains("ttl_ms " + Long.MAX_VALUE), e.getMessage());
    assertTrue(e.getMessage().contains(Long.toString(ReplicatedLimits.TTL_MS_MAX)), e.getMessage());
    assertEquals("/t", e.path());
    validator.writeTxn(create(CreateRequest.newBuilder().setPath("/t").setKind(NodeKind.TTL)
        .setTtlMs(ReplicatedLimits.TTL_MS_MAX)).build());
    refused(ErrorReason.INVALID_TTL, create(CreateRequest.newBuilder().setPath("/t").setKind(NodeKind.TTL)));
    refused(ErrorReason.INVALID_TTL, create(CreateRequest.newBuilder().setPath("/p").setTtlMs(5)));
    refused(ErrorReason.BAD_ARGUMENT, create(CreateRequest.newBuilder().setPath("/k").setKindValue(99)));
    refused(ErrorReason.INVALID_ACL, create(CreateRequest.newBuilder().setPath("/acl")
        .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(0))));
    refused(ErrorReason.INVALID_ACL, Request.newBuilder().setSetAcl(SetAclRequest.newBuilder()
        .setPath("/acl").addAcl(Acl.newBuilder().setScheme("").setId("x").setPerms(1))));
    SynodException inMulti = refused(ErrorReason.INVALID_TTL, Request.newBuilder().setMulti(
        MultiRequest.newBuilder().addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder()
            .setPath("/m").setKind(NodeKind.TTL).setTtlMs(-1)))));
    assertTrue(inMulti.getMessage().startsWith("op 0: "), inMulti.getMessage());
  }

  @Test
  void aSessionOpenedHereCarriesThisServersDedupWindowIntoTheLog() {
    var txn = validator.newSession(4_000);
    assertEquals(4_000, txn.getTimeoutMs());
    assertEquals(7, txn.getRecentResultsMax());
  }

  @Test
  void aDedupWindowOverWhatApplyKeepsIsRefusedAtStartup() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigParser.parse(
        "--recent-results-per-session", Integer.toString(ReplicatedLimits.RECENT_RESULTS_MAX + 1))
        .validate());
    assertTrue(e.getMessage().contains("recent-results-per-session"), e.getMessage());
  }

  @Test
  void clientWritesUnderTheSystemSubtreeAreRefusedNamingThePath() {
    SynodException e = refused(ErrorReason.NO_AUTH, create(CreateRequest.newBuilder().setPath("/synod/x")));
    assertTrue(e.getMessage().contains("reserved") && "/synod/x".equals(e.path()), e.getMessage());
    refused(ErrorReason.NO_AUTH, create(CreateRequest.newBuilder().setPath("/synod")));
    refused(ErrorReason.NO_AUTH, Request.newBuilder().setSetData(
        SetDataRequest.newBuilder().setPath("/synod/members").setData(ByteString.copyFromUtf8("x"))));
    refused(ErrorReason.NO_AUTH, Request.newBuilder().setDelete(DeleteRequest.newBuilder().setPath("/synod")));
    refused(ErrorReason.NO_AUTH, Request.newBuilder().setSetAcl(SetAclRequest.newBuilder().setPath("/synod/members")
        .addAcl(Acl.newBuilder().setScheme("world").setId("anyone").setPerms(31))));
    SynodException inMulti = refused(ErrorReason.NO_AUTH, Request.newBuilder().setMulti(MultiRequest.newBuilder()
        .addOps(Op.newBuilder().setCreate(CreateRequest.newBuilder().setPath("/ok")))
        .addOps(Op.newBuilder().setDelete(DeleteRequest.newBuilder().setPath("/synod/members")))));
    assertTrue(inMulti.getMessage().startsWith("op 1: "), inMulti.getMessage());
  }

  @Test
  void aPathThatMerelyStartsLikeTheSystemSubtreeIsAClients() throws SynodException {
    validator.writeTxn(create(CreateRequest.newBuilder().setPath("/synodic")).build());
  }
}
