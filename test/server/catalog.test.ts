// The bundled catalog against this machine's kernel and headers (real bpftrace, tracefs, clang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { release, tmpdir } from 'node:os';
import {
  bundledCatalog,
  catalogFromData,
  catalogFromListing,
  catalogFromParams,
  catalogSize,
} from '../../server/catalog/catalog';
import { parseFieldLine, parseListing } from '../../server/catalog/listing';
import { UAPI_HEADERS } from '../../server/catalog/uapi';

const CI = process.env.CI === 'true';

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status === 0;
}

test('the bundled catalog holds the tracepoints, structs and enums of its kernel', () => {
  const catalog = bundledCatalog();
  assert.equal(catalog.origin, 'bundled');
  assert.match(catalog.kernel, /^\d+\.\d+/);
  const size = catalogSize(catalog);
  assert.ok(size.tracepoints >= 2000, `only ${size.tracepoints} tracepoints`);
  assert.ok(catalog.categories().includes('syscalls'));
  assert.ok(catalog.events('syscalls').includes('sys_enter_bind'));
  assert.deepEqual(catalog.fields('syscalls', 'sys_enter_bind'), [
    { name: '__syscall_nr', type: 'int' },
    { name: 'fd', type: 'int' },
    { name: 'umyaddr', type: 'struct sockaddr *' },
    { name: 'addrlen', type: 'int' },
  ]);
  assert.deepEqual(
    catalog.fields('sched', 'sched_process_exec')?.find((f) => f.name === 'filename'),
    { name: 'filename', type: '__data_loc char[]', isArray: true },
  );
  assert.deepEqual(
    catalog.fields('sched', 'sched_switch')?.find((f) => f.name === 'prev_comm'),
    { name: 'prev_comm', type: 'char[16]', isArray: true },
  );
  assert.equal(catalog.fields('syscalls', 'sys_enter_bindx'), undefined);
  assert.equal(catalog.fields('nosuch', 'sys_enter_bind'), undefined);
  assert.deepEqual(catalog.events('nosuch'), []);

  const sin = catalog.struct('sockaddr_in');
  assert.deepEqual(
    sin?.map((m) => m.name),
    ['sin_family', 'sin_port', 'sin_addr', '__pad'],
  );
  assert.equal(sin?.find((m) => m.name === 'sin_addr')?.type, 'struct in_addr');
  assert.deepEqual(catalog.struct('struct in_addr'), [{ name: 's_addr', type: '__be32' }]);
  // Named nested unions are reachable; anonymous ones are flattened into the parent.
  assert.equal(catalog.struct('in6_addr')?.[0].type, 'union in6_addr.in6_u');
  assert.ok(catalog.struct('in6_addr.in6_u')?.some((m) => m.name === 'u6_addr8'));
  assert.ok(catalog.struct('sock_common')?.some((m) => m.name === 'skc_family'));
  assert.ok(catalog.struct('task_struct')?.some((m) => m.name === 'comm' && m.type === 'char[16]'));
  // Every struct a tracepoint field points at is in the catalog.
  assert.ok(catalog.struct('sockaddr'));
  assert.equal(catalog.struct('no_such_struct'), undefined);
  assert.equal(catalog.struct('__proto__'), undefined);

  assert.equal(catalog.enumConstant('TASK_COMM_LEN'), 16);
  assert.equal(catalog.enumConstant('TCP_LISTEN'), 10);
  assert.equal(catalog.enumConstant('AF_INET'), undefined, 'AF_INET is a #define, not a BTF enum');
});

test('include constants: linux/in.h and linux/in6.h bring AF_*, IPPROTO_*, SO_*', () => {
  const catalog = bundledCatalog();
  const inH = catalog.constants('linux/in.h');
  assert.equal(inH?.get('AF_INET'), 2);
  assert.equal(inH?.get('AF_INET6'), 10);
  assert.equal(inH?.get('IPPROTO_TCP'), 6);
  assert.equal(inH?.get('SOL_SOCKET'), 1);
  assert.equal(inH?.get('SO_REUSEPORT'), 15);
  assert.equal(catalog.constants('<linux/in6.h>')?.get('IPV6_V6ONLY'), 26);
  assert.equal(catalog.constants('linux/tcp.h')?.get('TCP_NODELAY'), 1);
  assert.equal(catalog.constants('linux/nosuch.h'), undefined);
});

// Our table must say what the C headers say: compile a program printing each constant we list.
test('include constants agree with the C headers of this machine', (t) => {
  if (!have('cc') && !have('clang')) {
    if (CI) assert.fail('a C compiler is required under CI');
    t.skip('no C compiler');
    return;
  }
  const compiler = have('clang') ? 'clang' : 'cc';
  // The userspace headers spell kernel-only names differently; compare what both define.
  const userspace: Record<string, string[]> = {
    'linux/in.h': ['sys/socket.h', 'linux/in.h'],
    'linux/in6.h': ['sys/socket.h', 'linux/in6.h'],
    'linux/tcp.h': ['sys/socket.h', 'linux/tcp.h'],
    // glibc's <fcntl.h> says O_LARGEFILE 0 on 64-bit; the kernel's own value is what a probe sees.
    'fcntl.h': ['linux/fcntl.h'],
    'errno.h': ['errno.h'],
    'signal.h': ['signal.h'],
  };
  const dir = mkdtempSync(join(tmpdir(), 'ft-uapi-'));
  try {
    let checked = 0;
    for (const [header, includes] of Object.entries(userspace)) {
      const names = Object.keys(UAPI_HEADERS[header]);
      const body = names
        .map((n) => `#ifdef ${n}\n  printf("${n}=%lld\\n", (long long)(${n}));\n#endif`)
        .join('\n');
      const source = `#define _GNU_SOURCE\n#include <stdio.h>\n${includes.map((i) => `#include <${i}>`).join('\n')}\nint main(void) {\n${body}\n  return 0;\n}\n`;
      writeFileSync(join(dir, 'c.c'), source);
      execFileSync(compiler, ['-w', '-o', join(dir, 'c'), join(dir, 'c.c')]);
      const out = execFileSync(join(dir, 'c'), { encoding: 'utf8' });
      for (const line of out.trim().split('\n')) {
        const [name, value] = line.split('=');
        const ours = UAPI_HEADERS[header][name];
        assert.equal(ours, Number(value), `${header}: ${name} is ${value} in C, ${ours} in our table`);
        checked++;
      }
    }
    assert.ok(checked > 200, `only ${checked} constants compared`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listing parser reads the -lv forms: pointers, arrays, data_loc, several blocks', () => {
  assert.deepEqual(parseFieldLine('    struct sockaddr * umyaddr'), {
    name: 'umyaddr',
    type: 'struct sockaddr *',
    line: 'struct sockaddr * umyaddr',
  });
  assert.deepEqual(parseFieldLine('const char *const * argv')?.type, 'const char *const *');
  assert.equal(parseFieldLine('   '), undefined);
  const listing = [
    'tracepoint:syscalls:sys_enter_listen',
    '    int __syscall_nr',
    '    int fd',
    '    int backlog',
    'noise that is not a block',
    '    int ignored',
    'tracepoint:sched:sched_switch',
    '    char prev_comm[16]',
    '',
  ].join('\n');
  const parsed = parseListing(listing);
  assert.deepEqual([...parsed.keys()], ['syscalls:sys_enter_listen', 'sched:sched_switch']);
  assert.deepEqual(
    parsed.get('syscalls:sys_enter_listen')?.map((f) => f.name),
    ['__syscall_nr', 'fd', 'backlog'],
  );
  const node = catalogFromListing(listing, '5.10.0-node');
  assert.equal(node.origin, 'node');
  assert.equal(node.kernel, '5.10.0-node');
  assert.deepEqual(node.categories(), ['syscalls', 'sched']);
  assert.equal(node.fields('syscalls', 'sys_enter_bind'), undefined);
  assert.deepEqual(node.fields('sched', 'sched_switch'), [
    { name: 'prev_comm', type: 'char[16]', isArray: true },
  ]);
  // Types still resolve from the bundled BTF.
  assert.ok(node.struct('sockaddr_in'));
  assert.equal(node.constants('linux/in.h')?.get('AF_INET'), 2);

  assert.deepEqual(catalogSize(catalogFromParams({ kernel: 'k', tracepointListing: listing })), {
    categories: 2,
    tracepoints: 2,
  });
  assert.throws(() => catalogFromParams({ kernel: 'k' }), /tracepointListing or catalogData/);
  assert.throws(() => catalogFromData({ format: 99 }), /format 99/);
  assert.throws(() => catalogFromData('nope'), /not a JSON object/);
});

test('a catalog file round-trips through catalogFromData', () => {
  const file = join(__dirname, '../../server/catalog/kernel-catalog.json');
  const copy = catalogFromData(JSON.parse(readFileSync(file, 'utf8')));
  assert.equal(copy.origin, 'node');
  assert.deepEqual(catalogSize(copy), catalogSize(bundledCatalog()));
});

// The bundled data is this machine's kernel: what bpftrace lists must be what the catalog says.
test('the catalog agrees with `bpftrace -lv` on this machine', (t) => {
  if (!have('bpftrace')) {
    if (CI) assert.fail('bpftrace is required under CI');
    t.skip('bpftrace is not installed');
    return;
  }
  const run = spawnSync('bpftrace', ['-lv', 'tracepoint:*'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const listing = run.stdout ?? '';
  if (!listing.trim()) {
    if (CI) assert.fail(`bpftrace -lv listed nothing (root? tracefs?): ${run.stderr}`);
    t.skip('bpftrace lists no tracepoints here (not root, or tracefs not mounted)');
    return;
  }
  const live = catalogFromListing(listing, release());
  assert.ok(catalogSize(live).tracepoints > 1000);
  assert.deepEqual(
    live.fields('syscalls', 'sys_enter_bind'),
    bundledCatalog().fields('syscalls', 'sys_enter_bind'),
  );
  if (release() !== bundledCatalog().kernel) {
    t.diagnostic(`bundled catalog is for ${bundledCatalog().kernel}, this kernel is ${release()}`);
    return;
  }
  // Same kernel: the bundled data must be exactly what bpftrace lists.
  const bundled = bundledCatalog();
  let compared = 0;
  for (const category of live.categories()) {
    for (const event of live.events(category)) {
      assert.deepEqual(bundled.fields(category, event), live.fields(category, event), `${category}:${event}`);
      compared++;
    }
  }
  assert.equal(compared, catalogSize(bundled).tracepoints);
});

test('the generator reads tracefs format files the way bpftrace does', (t) => {
  const format = '/sys/kernel/tracing/events/syscalls/sys_enter_bind/format';
  if (!existsSync(format)) {
    if (CI) assert.fail('tracefs must be mounted under CI');
    t.skip('tracefs is not mounted');
    return;
  }
  const fields = [...readFileSync(format, 'utf8').matchAll(/field:([^;]+);\s*offset:(\d+)/g)]
    .filter((m) => !/common_/.test(m[1]))
    .map((m) => parseFieldLine(m[1])?.name);
  assert.deepEqual(
    fields,
    bundledCatalog()
      .fields('syscalls', 'sys_enter_bind')
      ?.map((f) => f.name),
  );
});
