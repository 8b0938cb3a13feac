// Every Envoy frame of the seed article's bpftrace output resolves to its definition in the
// Envoy-shaped fixture tree; every other frame stays unresolved and says why.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { extractStacks } from '../../../core/stacks/frames';
import type { Resolution } from '../../../core/stacks/resolution';
import { Resolver } from '../../../core/stacks/resolver';
import { SourceIndex } from '../../../core/stacks/sourceIndex';

const repo = path.resolve(__dirname, '../../..');
const tree = path.join(repo, 'test/fixtures/envoy-tree');
const seedDir = path.resolve(repo, '..', 'shared', 'seed');

/** Where each Envoy function of the seed is defined: file, and a text found on its defining line. */
const EXPECTED: Record<string, [string, string]> = {
  'Envoy::Network::IoSocketHandleImpl::bind': [
    'source/common/network/io_socket_handle_impl.cc',
    'IoSocketHandleImpl::bind(',
  ],
  'Envoy::Network::IoSocketHandleImpl::listen': [
    'source/common/network/io_socket_handle_impl.cc',
    'IoSocketHandleImpl::listen(',
  ],
  'Envoy::Network::IoSocketHandleImpl::duplicate': [
    'source/common/network/io_socket_handle_impl.cc',
    'IoSocketHandleImpl::duplicate()',
  ],
  'Envoy::Network::SocketImpl::bind': ['source/common/network/socket_impl.cc', 'SocketImpl::bind('],
  'Envoy::Network::ListenSocketImpl::bind': [
    'source/common/network/listen_socket_impl.cc',
    'ListenSocketImpl::bind(',
  ],
  'Envoy::Network::ListenSocketImpl::setupSocket': [
    'source/common/network/listen_socket_impl.cc',
    'ListenSocketImpl::setupSocket(',
  ],
  'Envoy::Network::ListenSocketImpl::duplicate': [
    'source/common/network/listen_socket_impl.h',
    'SocketPtr duplicate() override {',
  ],
  'Envoy::Network::NetworkListenSocket::NetworkListenSocket': [
    'source/common/network/listen_socket_impl.h',
    'NetworkListenSocket(const Address::InstanceConstSharedPtr& address,',
  ],
  'Envoy::Server::InstanceImpl::initialize': ['source/server/server.cc', 'void InstanceImpl::initialize('],
  'Envoy::Server::InstanceImpl::run': ['source/server/server.cc', 'void InstanceImpl::run()'],
  'Envoy::Network::TcpListenerImpl::setupServerSocket': [
    'source/common/network/tcp_listener_impl.cc',
    'TcpListenerImpl::setupServerSocket(',
  ],
  'Envoy::Network::TcpListenerImpl::TcpListenerImpl': [
    'source/common/network/tcp_listener_impl.cc',
    'TcpListenerImpl::TcpListenerImpl(',
  ],
  'Envoy::Event::DispatcherImpl::createListener': [
    'source/common/event/dispatcher_impl.cc',
    'DispatcherImpl::createListener(',
  ],
  'Envoy::Event::DispatcherImpl::runPostCallbacks': [
    'source/common/event/dispatcher_impl.cc',
    'DispatcherImpl::runPostCallbacks()',
  ],
  'Envoy::Event::DispatcherImpl::run': [
    'source/common/event/dispatcher_impl.cc',
    'DispatcherImpl::run(RunType type)',
  ],
  'Envoy::Server::ActiveTcpListener::ActiveTcpListener': [
    'source/server/active_tcp_listener.cc',
    'ActiveTcpListener::ActiveTcpListener(Network::TcpConnectionHandler& parent,\n                                     Network::ListenerConfig& config)',
  ],
  'Envoy::Server::ConnectionHandlerImpl::addListener': [
    'source/server/connection_handler_impl.cc',
    'ConnectionHandlerImpl::addListener(',
  ],
  'Envoy::Server::ListenSocketFactoryImpl::createListenSocketAndApplyOptions': [
    'source/server/listener_impl.cc',
    'ListenSocketFactoryImpl::createListenSocketAndApplyOptions() {',
  ],
  'Envoy::Server::ListenSocketFactoryImpl::getListenSocket': [
    'source/server/listener_impl.cc',
    'ListenSocketFactoryImpl::getListenSocket()',
  ],
  'Envoy::Server::ListenerManagerImpl::createListenSocketFactory': [
    'source/server/listener_manager_impl.cc',
    'ListenerManagerImpl::createListenSocketFactory(',
  ],
  'Envoy::Server::ListenerManagerImpl::setNewOrDrainingSocketFactory': [
    'source/server/listener_manager_impl.cc',
    'ListenerManagerImpl::setNewOrDrainingSocketFactory(',
  ],
  'Envoy::Server::ListenerManagerImpl::addOrUpdateListenerInternal': [
    'source/server/listener_manager_impl.cc',
    'ListenerManagerImpl::addOrUpdateListenerInternal(',
  ],
  'Envoy::Server::ListenerManagerImpl::addOrUpdateListener': [
    'source/server/listener_manager_impl.cc',
    'ListenerManagerImpl::addOrUpdateListener(',
  ],
  'Envoy::Server::Configuration::MainImpl::initialize': [
    'source/server/configuration_impl.cc',
    'void MainImpl::initialize(',
  ],
  'Envoy::Config::GrpcMuxImpl::onDiscoveryResponse': [
    'source/common/config/grpc_mux_impl.cc',
    'GrpcMuxImpl::onDiscoveryResponse(',
  ],
  'Envoy::Grpc::AsyncStreamCallbacks::onReceiveMessageRaw': [
    'envoy/grpc/async_client.h',
    'bool onReceiveMessageRaw(Buffer::InstancePtr&& response) override {',
  ],
  'Envoy::Grpc::AsyncStreamImpl::onData': [
    'source/common/grpc/async_client_impl.cc',
    'AsyncStreamImpl::onData(',
  ],
  'Envoy::Http::AsyncStreamImpl::encodeData': [
    'source/common/http/async_client_impl.cc',
    'AsyncStreamImpl::encodeData(',
  ],
  'Envoy::Router::UpstreamRequest::decodeData': [
    'source/common/router/upstream_request.cc',
    'UpstreamRequest::decodeData(',
  ],
  'Envoy::Http::ResponseDecoderWrapper::decodeData': [
    'source/common/http/codec_wrappers.h',
    'void decodeData(Buffer::Instance& data, bool end_stream) override {',
  ],
  'Envoy::Http::Http2::ConnectionImpl::onFrameReceived': [
    'source/common/http/http2/codec_impl.cc',
    'Status ConnectionImpl::onFrameReceived(',
  ],
  'Envoy::Http::Http2::ConnectionImpl::dispatch': [
    'source/common/http/http2/codec_impl.cc',
    'Http::Status ConnectionImpl::dispatch(',
  ],
  'Envoy::Http::CodecClient::onData': ['source/common/http/codec_client.cc', 'void CodecClient::onData('],
  'Envoy::Http::CodecClient::CodecReadFilter::onData': [
    'source/common/http/codec_client.h',
    'Network::FilterStatus onData(Buffer::Instance& data, bool end_stream) override {',
  ],
  'Envoy::Network::FilterManagerImpl::onContinueReading': [
    'source/common/network/filter_manager_impl.cc',
    'FilterManagerImpl::onContinueReading(',
  ],
  'Envoy::Network::ConnectionImpl::onReadReady': [
    'source/common/network/connection_impl.cc',
    'void ConnectionImpl::onReadReady()',
  ],
  'Envoy::Network::ConnectionImpl::onFileEvent': [
    'source/common/network/connection_impl.cc',
    'void ConnectionImpl::onFileEvent(',
  ],
  'Envoy::MainCommonBase::run': ['source/exe/main_common.cc', 'bool MainCommonBase::run()'],
  'Envoy::MainCommon::main': ['source/exe/main_common.cc', 'int MainCommon::main('],
  'Envoy::Server::WorkerImpl::threadRoutine': [
    'source/server/worker_impl.cc',
    'void WorkerImpl::threadRoutine(',
  ],
  // Lambdas: the line of the lambda itself.
  'lambda:Envoy::Http::Http2::ConnectionImpl::Http2Callbacks::Http2Callbacks': [
    'source/common/http/http2/codec_impl.cc',
    'auto status = static_cast<ConnectionImpl*>(user_data)->onFrameReceived(frame);',
  ],
  'lambda:Envoy::Event::FileEventImpl::assignEvents': [
    'source/common/event/file_event_impl.cc',
    '[](evutil_socket_t, short what, void* arg) -> void {',
  ],
  'lambda:Envoy::Thread::ThreadImplPosix::ThreadImplPosix': [
    'source/common/common/posix/thread_impl.cc',
    '[](void* arg) -> void* {',
  ],
  'lambda:Envoy::Server::WorkerImpl::addListener': [
    'source/server/worker_impl.cc',
    'dispatcher_->post([this, overridden_listener, &listener, completion]() -> void {',
  ],
};

/** 1-based line where `needle` starts (or, for the lambda of `onFrameReceived`, the line above its body). */
function lineOf(rel: string, needle: string): number {
  const text = readFileSync(path.join(tree, rel), 'utf8');
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `fixture ${rel} lacks ${JSON.stringify(needle)}`);
  assert.equal(text.indexOf(needle, at + 1), -1, `fixture ${rel}: ${JSON.stringify(needle)} is not unique`);
  return text.slice(0, at).split('\n').length;
}

const resolutions: Resolution[] = [];

before(async () => {
  const files = readdirSync(seedDir).filter((f) => /^000_.*\.txt$/.test(f));
  assert.ok(files.length > 0, `the seed article is expected in ${seedDir}`);
  const text = readFileSync(path.join(seedDir, files[0]), 'utf8');
  const index = await SourceIndex.build([tree]);
  const resolver = new Resolver(index);
  for (const stack of extractStacks(text)) resolutions.push(...(await resolver.resolveStack(stack.frames)));
  assert.ok(resolutions.length > 200, `the seed holds many frames (found ${resolutions.length})`);
});

test('every Envoy frame of the seed resolves to its fixture definition', () => {
  const envoy = resolutions.filter((r) => r.symbol.includes('Envoy::'));
  assert.ok(envoy.length > 150);
  const covered = new Set<string>();
  for (const r of envoy) {
    const p = r.parsed!;
    const key =
      p.kind === 'lambda'
        ? `lambda:${p.lambda!.enclosing.scope.concat(p.lambda!.enclosing.name).join('::')}`
        : p.scope.concat(p.name).join('::');
    const want = EXPECTED[key];
    assert.ok(want, `no expectation for ${key} (${r.frame})`);
    covered.add(key);
    assert.ok(r.location, `${r.frame} unresolved: ${r.reason}`);
    assert.equal(r.resolvedBy, 'index');
    assert.equal(path.relative(tree, r.location.file), want[0], r.frame);
    let line = lineOf(want[0], want[1]);
    // The onFrameReceived lambda's line is the `[](…)` line just above the call in its body.
    if (key.startsWith('lambda:Envoy::Http::Http2')) line -= 1;
    assert.equal(r.location.line, line, `${r.frame} -> line ${r.location.line}, want ${line}`);
  }
  assert.deepEqual(
    [...covered].sort(),
    Object.keys(EXPECTED).sort(),
    'every expectation met by some seed frame',
  );
});

test('the thunk, the std::function wrapper and the lambdas say how they were resolved', () => {
  const thunk = resolutions.find((r) => r.symbol.startsWith('virtual thunk to'));
  assert.match(thunk?.reason ?? '', /virtual thunk/);
  const wrapper = resolutions.find((r) => r.symbol.startsWith('std::__1::__function::__func<'));
  assert.match(
    wrapper?.reason ?? '',
    /calls addListener.*called through std::__1::__function::__func::operator\(\)/,
  );
  const h2 = resolutions.find((r) => r.symbol.includes('Http2Callbacks()::$_22::__invoke'));
  assert.match(h2?.reason ?? '', /calls onFrameReceived/);
});

test('non-Envoy frames stay unresolved with a reason', () => {
  const others = resolutions.filter((r) => !r.symbol.includes('Envoy::'));
  const names = new Set(others.map((r) => r.parsed?.name));
  for (const n of [
    'bind',
    'listen',
    'dup',
    'main',
    'start_thread',
    '__libc_start_main',
    'nghttp2_session_mem_recv',
    'event_base_loop',
  ]) {
    assert.ok(names.has(n), `seed has ${n}`);
  }
  for (const r of others) {
    assert.equal(r.location, undefined, `${r.frame} must stay unresolved`);
    assert.match(r.reason ?? '', /no definition in the indexed sources/);
  }
});
