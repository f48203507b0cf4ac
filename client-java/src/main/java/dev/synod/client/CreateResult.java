package dev.synod.client;

import dev.synod.api.v1.Stat;

/** The path actually created (with the sequence suffix for sequential nodes) and its stat. */
public record CreateResult(String path, Stat stat) {}
