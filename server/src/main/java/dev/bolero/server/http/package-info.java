/** The control plane's HTTP surface: the public {@code /v1} API and the node protocol, on Javalin. */
package dev.bolero.server.http;
