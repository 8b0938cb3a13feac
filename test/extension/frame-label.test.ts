// How the Stacks view names a frame (extension/stacks/frame-label.ts), from symbols as bpftrace
// prints them once demangled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSymbol } from '../../core/stacks/symbol';
import { frameLabel } from '../../extension/stacks/frame-label';

const label = (frame: string, symbol: string) => frameLabel({ frame, symbol, parsed: parseSymbol(symbol) });

test('a method keeps its last two scopes, its parentheses and the offset', () => {
  assert.equal(
    label(
      'Envoy::Network::TcpListenerImpl::onSocketEvent(short)+0x4f',
      'Envoy::Network::TcpListenerImpl::onSocketEvent(short)',
    ),
    'Network::TcpListenerImpl::onSocketEvent()+0x4f',
  );
  assert.equal(label('main+12', 'main'), 'main+12');
});

test('a lambda is named by the function it is in', () => {
  const symbol = 'Envoy::Server::ListenerImpl::initialize()::$_0::operator()(Envoy::Network::Socket&) const';
  assert.equal(label(`${symbol}+0x10`, symbol), 'lambda in ListenerImpl::initialize+0x10');
});

test('a frame whose symbol could not be read is shown as printed', () => {
  assert.equal(frameLabel({ frame: '0x7f3a2b1c', symbol: '' }), '0x7f3a2b1c');
});
