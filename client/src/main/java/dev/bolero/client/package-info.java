/**
 * A Java client of the control plane's {@code /v1} API: {@link dev.bolero.client.BoleroClient}. Requests and answers
 * are the wire records of {@code dev.bolero.api.wire}; failures are {@link dev.bolero.client.ClientException}.
 */
package dev.bolero.client;
