/**
 * Authentication and access control, free of gRPC and of the state machine's locks: what
 * identities a credential proves ({@link dev.synod.server.auth.Authenticator}, ZooKeeper's digest
 * in {@link dev.synod.server.auth.DigestAuth}), the identities a caller holds
 * ({@link dev.synod.server.auth.Identities}), and the ACL rules apply and reads use
 * ({@link dev.synod.server.auth.Acls}: which schemes and ids are valid, which identity an entry
 * grants, the {@code auth} scheme). The ACL rules are constants, never settings: apply calls them
 * and must decide alike on every replica.
 */
package dev.synod.server.auth;
