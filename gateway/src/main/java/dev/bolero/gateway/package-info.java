/**
 * The gateway's data plane: HTTP(S) ingress that routes a request by its host name to a healthy machine of a fleet.
 *
 * <p>Whoever watches the control plane feeds a {@link dev.bolero.gateway.RouteTable} with immutable
 * {@link dev.bolero.gateway.Routes} snapshots and implements {@link dev.bolero.gateway.Waker} to start machines on
 * request; {@link dev.bolero.gateway.Gateway} serves HTTP/1.1, HTTP/2 (TLS ALPN and h2c) and WebSocket upgrades
 * through Jetty's proxy, balances by least outstanding requests within each fleet's concurrency limits, retries
 * idempotent requests on another machine after a transport failure and ejects machines that keep failing. Its
 * {@link dev.bolero.gateway.Gateway#activity()} tells the control plane which machines are idle.
 */
package dev.bolero.gateway;
