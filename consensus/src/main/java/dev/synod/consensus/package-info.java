/**
 * Multi-Paxos as a deterministic, I/O-free state machine: inputs (peer messages, ticks,
 * proposals) go in through one step function and an explicit output comes out (what to persist,
 * what to send, which slots are decided). No threads, sockets, clocks, randomness or DI.
 *
 * <p>The single-node server is a cluster of one: it sequences transactions itself and applies
 * them through the same apply path the replicated server will use.
 */
package dev.synod.consensus;
