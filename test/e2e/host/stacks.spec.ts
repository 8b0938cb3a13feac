// Scenario 3 through the API: frames of a real bpftrace ustack (fixtures/stacks, from the
// mini-Envoy) open the mini-Envoy source in the workspace (envoy/) at the definition line.
// The opened line is checked by its text, not by trusting what the resolver returned.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activeApi, workspaceFile } from './activation.spec';

interface Resolution {
  frame: string;
  location?: { file: string; line: number; column: number };
  reason?: string;
}

async function stackFrames(name: string): Promise<string[]> {
  const bytes = await vscode.workspace.fs.readFile(workspaceFile(`stacks/${name}`));
  return Buffer.from(bytes)
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function frameOf(frames: string[], fragment: string): string {
  const frame = frames.find((f) => f.includes(fragment));
  assert.ok(frame, `a frame with ${fragment} in the fixture`);
  return frame;
}

/** Opens `frame` like a click on it does, and returns the line the editor shows. */
async function openFrame(
  frame: string,
  callee?: string,
): Promise<{ r: Resolution; file: string; text: string }> {
  const r = await vscode.commands.executeCommand<Resolution>('fieldtrace.openFrame', frame, callee);
  assert.ok(r?.location, `${frame} resolved: ${r?.reason ?? 'no resolution'}`);
  const editor = vscode.window.activeTextEditor;
  assert.ok(editor, 'an editor is open');
  assert.equal(editor.document.uri.fsPath, r.location.file, 'the opened file is the resolved one');
  const line = editor.selection.active.line;
  assert.equal(line, r.location.line - 1, 'the cursor is on the resolved line');
  return { r, file: r.location.file, text: editor.document.lineAt(line).text };
}

export function registerStackSpecs(): void {
  describe('stack frames open their C++ source (scenario 3, API)', () => {
    before(async () => {
      await activeApi();
    });

    it('opens each Envoy frame of the main thread at its definition', async () => {
      const frames = await stackFrames('listen-main-thread.txt');
      const cases: Array<[string, string, RegExp]> = [
        ['IoSocketHandleImpl::listen(', 'io_socket_handle_impl.cc', /IoSocketHandleImpl::listen\(/],
        ['setupServerSocket(', 'tcp_listener_impl.cc', /TcpListenerImpl::setupServerSocket\(/],
        ['TcpListenerImpl::TcpListenerImpl(', 'tcp_listener_impl.cc', /TcpListenerImpl::TcpListenerImpl\(/],
        ['ConnectionHandlerImpl::addListener(', '.cc', /ConnectionHandlerImpl::addListener\(/],
        ['InstanceImpl::initialize(', 'server.cc', /InstanceImpl::initialize\(/],
      ];
      for (const [fragment, file, definition] of cases) {
        const opened = await openFrame(frameOf(frames, fragment));
        assert.ok(opened.file.includes('/envoy/source/'), `${fragment}: ${opened.file} is in the checkout`);
        assert.ok(opened.file.endsWith(file), `${fragment}: ${opened.file}`);
        assert.match(opened.text, definition, `${fragment}: the line is its definition`);
      }
    });

    it('opens a lambda frame inside its enclosing function, chosen by its callee', async () => {
      const frames = await stackFrames('listen-worker.txt');
      const lambda = frameOf(frames, '::$_0::operator()');
      const callee = frames[frames.indexOf(lambda) - 1];
      const opened = await openFrame(lambda, callee);
      assert.ok(opened.file.endsWith('worker_impl.cc'), opened.file);
      assert.match(opened.text, /\[this|handler_->addListener/, `the lambda's line: ${opened.text}`);
    });

    it('leaves a libc frame unresolved and says why', async () => {
      const frames = await stackFrames('listen-main-thread.txt');
      const before = vscode.window.activeTextEditor?.document.uri.toString();
      const r = await vscode.commands.executeCommand<Resolution>(
        'fieldtrace.openFrame',
        frameOf(frames, '__GI___listen'),
      );
      assert.equal(r?.location, undefined);
      assert.ok(r?.reason, 'a reason is given');
      assert.equal(
        vscode.window.activeTextEditor?.document.uri.toString(),
        before,
        'nothing else was opened',
      );
    });
  });
}
