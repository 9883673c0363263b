/** Where and how the agent's metrics go over OTLP/HTTP (`metrics.otlp` in the agent's configuration). */
export interface OtlpConfig {
  /** OTLP/HTTP metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics. */
  endpoint: string;
  intervalMs: number;
  headers: Record<string, string>;
  /** Wire encoding; protobuf unless given (a third of JSON's size and of its serialization time). */
  protocol?: OtlpProtocol;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';
