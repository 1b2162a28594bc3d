package features

import "strings"

// Token tables. Callee names are resolved through aliases first, so
// `const cp = require('node:child_process'); cp.exec()` looks up
// "child_process.exec" and `from subprocess import Popen as P; P()` looks up
// "subprocess.Popen". A lookup tries the exact name, then the method table of
// the name's root module, then method names distinctive enough to count on
// any receiver.

var (
	tProcess  = []string{"process.call"}
	tDetached = []string{"process.detached"}
	tEval     = []string{"eval.call"}
	tOS       = []string{"os.call"}
	tRead     = []string{"fs.read"}
	tWrite    = []string{"fs.write"}
	tDelete   = []string{"fs.delete"}
	tList     = []string{"fs.list"}
	tNet      = []string{"net.call"}
	tDNS      = []string{"net.dns"}
	tEncoding = []string{"encoding.call"}
	tCrypto   = []string{"crypto.call"}
	tSpy      = []string{"spy.call"}
)

// table builds a name → tokens map.
func table(tok []string, names ...string) map[string][]string {
	m := make(map[string][]string, len(names))
	for _, n := range names {
		m[n] = tok
	}
	return m
}

// merge combines tables (later ones win).
func merge(ms ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// jsModule normalises a JavaScript module specifier to the key of the token
// tables: "node:" dropped, subpaths dropped ("fs/promises" → "fs"), dots
// replaced so the result is one name segment ("socket.io-client" →
// "socket_io-client").
func jsModule(spec string) string {
	spec = strings.TrimPrefix(spec, "node:")
	if strings.HasPrefix(spec, "@") {
		if i := strings.IndexByte(spec, '/'); i >= 0 {
			if j := strings.IndexByte(spec[i+1:], '/'); j >= 0 {
				spec = spec[:i+1+j]
			}
		}
	} else if i := strings.IndexByte(spec, '/'); i >= 0 {
		spec = spec[:i]
	}
	return strings.ReplaceAll(spec, ".", "_")
}

// pyRoot is the top-level package of a Python module name ("" for relative).
func pyRoot(mod string) string {
	if strings.HasPrefix(mod, ".") {
		return ""
	}
	return rootSeg(mod)
}

var jsImportTokens = mergeTok(
	tokFor("os.import", "os"),
	tokFor("fs.import", "fs", "fs-extra", "graceful-fs"),
	tokFor("net.import", "http", "https", "net", "dgram", "tls", "http2", "dns", "axios", "node-fetch", "cross-fetch",
		"isomorphic-fetch", "got", "request", "undici", "ws", "socket_io-client", "superagent", "needle", "phin", "bent"),
	tokFor("process.import", "child_process", "execa", "shelljs", "cross-spawn"),
	tokFor("encoding.import", "crypto", "zlib", "buffer", "crypto-js"),
)

var pyImportTokens = mergeTok(
	tokFor("os.import", "os", "platform", "getpass", "pwd"),
	tokFor("fs.import", "shutil", "pathlib", "glob", "io"),
	tokFor("net.import", "requests", "urllib", "urllib2", "urllib3", "http", "httpx", "aiohttp", "socket", "ftplib",
		"smtplib", "paramiko", "dns", "telnetlib", "websocket", "websockets", "pycurl"),
	tokFor("process.import", "subprocess", "pty", "commands"),
	tokFor("encoding.import", "base64", "binascii", "codecs", "zlib", "gzip", "marshal", "cryptography", "Crypto",
		"Cryptodome", "fernet", "lzma", "bz2"),
)

func tokFor(tok string, mods ...string) map[string]string {
	m := map[string]string{}
	for _, x := range mods {
		m[x] = tok
	}
	return m
}

func mergeTok(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// JavaScript.

var jsExact = merge(
	table(tEval, "eval", "Function", "globalThis.eval", "window.eval", "global.eval", "self.eval",
		"globalThis.Function", "window.Function", "global.Function", computedGlobal),
	table(tNet, "fetch", "XMLHttpRequest", "WebSocket", "globalThis.fetch", "window.fetch", "axios", "node-fetch",
		"cross-fetch", "isomorphic-fetch", "got", "request", "needle", "phin", "bent", "socket_io-client", "ws"),
	table(tProcess, "execa", "cross-spawn"),
	table(tEncoding, "atob", "btoa", "unescape", "String.fromCharCode", "window.atob", "globalThis.atob"),
	table(tSpy, "screenshot-desktop"),
)

var jsNetMethods = table(tNet, "request", "get", "post", "put", "patch", "head", "fetch", "connect",
	"createConnection", "Socket", "send", "write", "emit", "upload")

var jsRoots = map[string]map[string][]string{
	"child_process": merge(table(tProcess, "exec", "execSync", "spawn", "spawnSync", "execFile", "execFileSync", "fork"),
		table(tDetached, "unref")),
	"execa":       table(tProcess, "command", "commandSync", "sync", "node", "execa", "execaSync", "execaCommand"),
	"shelljs":     table(tProcess, "exec"),
	"cross-spawn": table(tProcess, "sync", "spawn"),
	// Host facts that identify a machine or its user. os.platform(), arch(),
	// type(), release(), cpus() only pick a build or binary: every native
	// installer calls them, so they are no reconnaissance signal.
	"os":          table(tOS, "hostname", "userInfo", "homedir", "networkInterfaces"),
	"fs":          jsFS,
	"fs-extra":    jsFS,
	"graceful-fs": jsFS,
	"http":        jsNetMethods, "https": jsNetMethods, "http2": jsNetMethods, "net": jsNetMethods, "tls": jsNetMethods,
	"dgram": jsNetMethods, "axios": jsNetMethods, "node-fetch": jsNetMethods, "got": jsNetMethods, "request": jsNetMethods,
	"undici": jsNetMethods, "ws": jsNetMethods, "socket_io-client": jsNetMethods, "superagent": jsNetMethods,
	"needle": jsNetMethods, "fetch": jsNetMethods, "WebSocket": jsNetMethods, "XMLHttpRequest": table(tNet, "send", "open"),
	"dns": table(tDNS, "lookup", "resolve", "resolve4", "resolve6", "resolveTxt", "resolveAny", "resolveCname",
		"resolveMx", "resolveNs", "resolveSrv", "reverse", "lookupService"),
	"vm": table(tEval, "runInNewContext", "runInThisContext", "runInContext", "compileFunction", "Script"),
	"zlib": table(tEncoding, "inflateSync", "inflate", "gunzipSync", "gunzip", "unzipSync", "unzip", "inflateRawSync",
		"inflateRaw", "brotliDecompressSync", "brotliDecompress", "deflateSync", "deflate", "gzipSync", "gzip"),
	"crypto": table(tCrypto, "createCipheriv", "createDecipheriv", "createCipher", "createDecipher", "publicEncrypt",
		"privateDecrypt", "privateEncrypt", "publicDecrypt"),
	"crypto-js":  table(tCrypto, "encrypt", "decrypt"),
	"clipboardy": table(tSpy, "read", "readSync", "write", "writeSync"),
	"iohook":     table(tSpy, "start", "on"),
	// process.binding reaches Node's internal modules (old HTTP/2 and
	// parser shims use it); only dlopen loads foreign code.
	"process": table(tProcess, "dlopen"),
}

var jsFS = merge(
	table(tRead, "readFile", "readFileSync", "createReadStream", "read", "readSync", "readJson", "readJsonSync", "readJSON"),
	table(tWrite, "writeFile", "writeFileSync", "appendFile", "appendFileSync", "createWriteStream", "write", "writeSync",
		"copyFile", "copyFileSync", "cp", "cpSync", "outputFile", "outputFileSync", "writeJson", "writeJsonSync", "copy", "copySync"),
	table(tDelete, "unlink", "unlinkSync", "rm", "rmSync", "rmdir", "rmdirSync", "remove", "removeSync", "emptyDir", "emptyDirSync"),
	table(tList, "readdir", "readdirSync", "opendir", "opendirSync", "walk"),
)

var jsAny = merge(
	table(tProcess, "execSync", "spawnSync", "execFileSync"),
	table(tRead, "readFileSync"),
	table(tWrite, "writeFileSync", "appendFileSync"),
	table(tList, "readdirSync"),
	table(tDelete, "unlinkSync", "rmSync", "rmdirSync"),
	table(tEncoding, "fromCharCode"),
	table(tCrypto, "createCipheriv", "createDecipheriv", "encrypt", "decrypt"),
	table(tEval, "runInNewContext", "runInThisContext"),
	table(tOS, "networkInterfaces", "userInfo"),
)

// computedGlobal is the resolved name of a global-object lookup with a
// computed, non-constant key (globalThis[x]).
const computedGlobal = "globalThis.[computed]"

// jsGlobalObjects are the names of the global object.
var jsGlobalObjects = map[string]bool{"globalThis": true, "window": true, "global": true, "self": true}

// Python.

var pyExact = merge(
	table(tEval, "eval", "exec", "compile", "execfile", "builtins.eval", "builtins.exec", "builtins.compile"),
	table(tEncoding, "bytes.fromhex", "bytearray.fromhex"),
)

var pyNetMethods = table(tNet, "get", "post", "put", "patch", "head", "request", "urlopen", "urlretrieve", "open",
	"connect", "connect_ex", "create_connection", "send", "sendall", "sendto", "sendfile", "sendmail", "send_message",
	"storbinary", "storlines", "perform", "upload", "write")

var pyRoots = map[string]map[string][]string{
	"subprocess": table(tProcess, "run", "call", "Popen", "check_output", "check_call", "getoutput", "getstatusoutput"),
	"os": merge(
		table(tProcess, "system", "popen", "popen2", "popen3", "popen4", "execl", "execle", "execlp", "execlpe", "execv",
			"execve", "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
			"spawnvpe", "posix_spawn", "posix_spawnp", "startfile"),
		table(tDetached, "fork", "forkpty", "setsid"),
		table(tOS, "getlogin", "uname", "getuid", "geteuid"),
		table(tDelete, "remove", "unlink", "rmdir", "removedirs"),
		table(tList, "listdir", "walk", "scandir"),
	),
	"commands":   table(tProcess, "getoutput", "getstatusoutput"),
	"pty":        table(tProcess, "spawn"),
	"asyncio":    table(tProcess, "create_subprocess_shell", "create_subprocess_exec"),
	"shutil":     merge(table(tDelete, "rmtree"), table(tWrite, "copy", "copy2", "copyfile", "copytree", "move", "make_archive")),
	"glob":       table(tList, "glob", "iglob"),
	"getpass":    table(tOS, "getuser"),
	"platform":   table(tOS, "node", "system", "platform", "uname", "version", "release", "machine", "processor"),
	"socket":     merge(pyNetMethods, table(tOS, "gethostname", "getfqdn"), table(tDNS, "gethostbyname", "gethostbyname_ex", "getaddrinfo")),
	"uuid":       table(tOS, "getnode"),
	"requests":   merge(pyNetMethods, table(tNet, "delete", "options")),
	"httpx":      merge(pyNetMethods, table(tNet, "delete", "options", "stream")),
	"urllib":     pyNetMethods,
	"urllib2":    pyNetMethods,
	"urllib3":    pyNetMethods,
	"http":       pyNetMethods,
	"aiohttp":    pyNetMethods,
	"ftplib":     pyNetMethods,
	"smtplib":    pyNetMethods,
	"paramiko":   merge(pyNetMethods, table(tNet, "exec_command")),
	"telnetlib":  pyNetMethods,
	"websocket":  pyNetMethods,
	"websockets": pyNetMethods,
	"pycurl":     pyNetMethods,
	"dns":        table(tDNS, "resolve", "query", "Resolver"),
	"base64": table(tEncoding, "b64decode", "b64encode", "b32decode", "b32encode", "b16decode", "b16encode", "b85decode",
		"b85encode", "a85decode", "a85encode", "decodebytes", "encodebytes", "decodestring", "encodestring",
		"standard_b64decode", "standard_b64encode", "urlsafe_b64decode", "urlsafe_b64encode"),
	"binascii":       table(tEncoding, "unhexlify", "hexlify", "a2b_base64", "b2a_base64", "a2b_hex", "b2a_hex"),
	"codecs":         table(tEncoding, "decode", "encode"),
	"zlib":           table(tEncoding, "decompress", "compress"),
	"gzip":           table(tEncoding, "decompress", "compress"),
	"lzma":           table(tEncoding, "decompress", "compress"),
	"bz2":            table(tEncoding, "decompress", "compress"),
	"marshal":        table(tEncoding, "loads", "dumps"),
	"cryptography":   table(tCrypto, "Fernet", "Cipher", "encrypt", "decrypt"),
	"Crypto":         table(tCrypto, "new", "encrypt", "decrypt"),
	"Cryptodome":     table(tCrypto, "new", "encrypt", "decrypt"),
	"win32crypt":     table(tCrypto, "CryptUnprotectData"),
	"pyperclip":      table(tSpy, "paste", "copy"),
	"win32clipboard": table(tSpy, "GetClipboardData", "OpenClipboard"),
	"PIL":            table(tSpy, "grab"),
	"pyscreenshot":   table(tSpy, "grab"),
	"pyautogui":      table(tSpy, "screenshot", "typewrite"),
	"mss":            table(tSpy, "mss", "grab", "shot"),
	"pynput":         table(tSpy, "Listener", "on_press", "join", "start"),
	"keyboard":       table(tSpy, "on_press", "on_release", "hook", "add_hotkey", "record", "read_key", "read_event"),
}

var pyAny = merge(
	table(tRead, "read_text", "read_bytes"),
	table(tWrite, "write_text", "write_bytes"),
	table(tList, "iterdir", "rglob"),
	table(tEncoding, "b64decode", "b64encode", "fromhex", "unhexlify"),
	table(tCrypto, "encrypt", "decrypt", "Fernet", "CryptUnprotectData"),
	table(tNet, "urlopen", "urlretrieve", "sendall"),
	table(tProcess, "check_output", "Popen", "getoutput"),
	table(tSpy, "clipboard_get", "screenshot"),
	table(tDNS, "gethostbyname"),
)

// Install-time command classes of setuptools/distutils.
var setupCommands = map[string]bool{
	"install": true, "develop": true, "egg_info": true, "build_py": true, "build_ext": true, "build": true,
	"sdist": true, "bdist_egg": true, "bdist_wheel": true, "build_clib": true, "install_lib": true,
	"install_scripts": true, "easy_install": true,
}
