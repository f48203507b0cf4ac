package dev.synod.client.recipes;

import dev.synod.api.v1.Stat;

/** A cached node: its path, value and stat (as of the change the cache last applied to it). */
public record ChildData(String path, byte[] data, Stat stat) {}
