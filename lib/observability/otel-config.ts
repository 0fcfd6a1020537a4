/**
 * The `openTelemetry` option of a client, typed without `@opentelemetry/api` so that rxhttp's types
 * compile where the optional peer dependency is not installed.
 */

/**
 * OpenTelemetry for a client, on `@opentelemetry/api` alone (an optional peer dependency: the SDK is
 * the application's). Each part is on when given; `openTelemetry: true` takes the global tracer and
 * meter providers (and the global propagator when one is registered).
 */
export interface OpenTelemetryConfig {
  /** A `TracerProvider`: one CLIENT span per attempt, propagated by `propagator`. @defaultValue no spans */
  readonly tracerProvider?: object;
  /** A `MeterProvider`: `http.client.request.duration`, `http.client.active_requests`, `rxhttp.*`. @defaultValue no metrics */
  readonly meterProvider?: object;
  /**
   * A `TextMapPropagator` for the attempt headers. @defaultValue the global propagator when one is
   * registered, else W3C trace context (`traceparent`, `tracestate`)
   */
  readonly propagator?: object;
}
