import type { ProtoGrpcType } from './types/synod';

/** The synod.v1 package: the Synod service constructor and the message types. */
export declare function loadSynod(): ProtoGrpcType['synod']['v1'];

/** The @grpc/proto-loader options the types in types/ are generated with. */
export declare const LOADER_OPTIONS: Readonly<{ longs: StringConstructor; enums: StringConstructor; defaults: true; oneofs: true }>;

/** Where the proto is loaded from. */
export declare const PROTO_ROOT: string;

export type { ProtoGrpcType };
