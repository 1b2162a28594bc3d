package sequence

// Tokens is the canonical behaviour vocabulary, in a fixed order: every token
// an extractor or the scan package may put in an Event, plus the phase markers
// the sequence builder inserts. The model's special tokens ([PAD] [CLS] [SEP]
// [MASK] [UNK]) belong to the vocabulary file, not to this list. Tokens are
// lower-case and dot-separated; a token is never renamed once a model has been
// trained on it (add new ones at the end of their group instead).
var Tokens = []string{
	// Information reading.
	"os.import",           // os, node:os, platform, getpass, pwd imported
	"os.call",             // host facts: hostname, userInfo, homedir, getuser, platform.node, gethostname, uuid.getnode
	"env.read",            // one environment variable read (process.env.X, os.environ[...], os.getenv)
	"env.read.all",        // the whole environment read or copied (JSON.stringify(process.env), dict(os.environ))
	"env.read.secret",     // an environment variable whose name looks like a credential (TOKEN, SECRET, KEY, PASS, AWS_, NPM_, GITHUB, CI)
	"fs.import",           // file-system module imported (fs, fs/promises, shutil, pathlib, glob, io)
	"fs.read",             // file read (readFile*, open(..., 'r'), read_text)
	"fs.write",            // file written or copied (writeFile*, open(..., 'w'), write_text, shutil.copy)
	"fs.delete",           // file or tree removed (unlink, rm, os.remove, shutil.rmtree)
	"fs.list",             // directory listed or walked (readdir, os.walk, listdir, scandir, glob)
	"sensitive.path",      // literal naming a credential file (.npmrc, .pypirc, .ssh, id_rsa, .aws, .netrc, /etc/passwd, .env, ...)
	"sensitive.browser",   // literal naming browser secrets (User Data, Login Data, Cookies, Local State, logins.json, key4.db)
	"sensitive.wallet",    // literal naming crypto-wallet stores (wallet.dat, Exodus, Electrum, MetaMask, .ethereum, keystore)
	"sensitive.messenger", // literal naming messenger token stores (Discord leveldb, Telegram tdata)
	"spy.call",            // clipboard, screenshot or keyboard-hook call

	// Data transmission.
	"net.import",   // network module imported (http, https, net, axios, requests, urllib, socket, ...)
	"net.call",     // network request or connection (request, get, post, fetch, connect, urlopen, send)
	"net.dns",      // DNS lookup (dns.lookup, dns.resolve, socket.gethostbyname, dnspython)
	"url",          // URL literal
	"url.ip",       // URL or host literal that is a raw IPv4/IPv6 address
	"url.webhook",  // webhook collector URL (Discord/Slack webhooks, webhook.site, pipedream, requestbin)
	"url.paste",    // paste or file-sharing host (pastebin-like, transfer.sh, raw gists)
	"url.tunnel",   // tunnel or out-of-band interaction host (ngrok, trycloudflare, interact.sh, oast, dnslog)
	"url.telegram", // Telegram bot API

	// Encoding.
	"encoding.import",         // encoding/compression/crypto module imported (base64, zlib, marshal, crypto, cryptography)
	"encoding.call",           // decode/encode call (b64decode, atob, Buffer.from(x,'base64'), fromCharCode, zlib.decompress)
	"crypto.call",             // cipher, encrypt/decrypt, Fernet, AES
	"string.base64",           // base64-looking literal of 40+ characters
	"string.hex",              // hex or \x-escaped literal of 40+ characters
	"string.long",             // literal of 500+ characters
	"obfuscation.identifiers", // many _0x… identifiers (once per file)
	"obfuscation.charcodes",   // 20+ numbers fed to fromCharCode/chr/bytes
	"obfuscation.minified",    // mean line length ≥ 500 or a line ≥ 5000 characters (once per file)

	// Payload execution.
	"process.import",      // process module imported (child_process, subprocess, pty)
	"process.call",        // command run (exec, spawn, fork, subprocess.*, os.system, os.popen, os.exec*)
	"process.detached",    // detached or hidden child (detached:true, unref, start_new_session, DETACHED_PROCESS, setsid, nohup/&)
	"shell.script",        // literal that is a shell command (curl, wget, sh -c, powershell, cmd /c, chmod +x, | sh)
	"shell.download_exec", // download piped to a shell, or downloaded then made executable/run
	"eval.call",           // run-time code evaluation (eval, Function, vm.*, exec, compile, __builtins__ lookups)
	"eval.decoded",        // evaluation of a decoded/decompressed payload
	"import.dynamic",      // import of a computed module name (require(x), __import__(x), globalThis[x])
	"persistence",         // persistence location (crontab, systemd, .bashrc/.profile, Run keys, Startup, LaunchAgents)
	"file.truncated",      // part of the file lay past the parse budget and was only lexically analysed
	"parse.error",         // the file is mostly syntax errors (once per file)

	// Manifest and structure (emitted by the scan package, except where noted).
	"install.script",      // npm preinstall/install/postinstall script, one per script
	"install.node_eval",   // node -e in an install script
	"install.binding_gyp", // binding.gyp present (native build at install)
	"setup.py",            // an executed setup.py is present
	"setup.cmdclass",      // setup(cmdclass=...) overriding install/develop/egg_info/build_* (scan/features)
	"setup.install_class", // class deriving from install/develop/egg_info/build_py with a run method (scan/features)
	"pth.exec",            // a *.pth line starting with import

	// Added by detection v2 (shared by JS and Python)
	"browser.hook",          // page network or wallet APIs overridden (window.fetch, XMLHttpRequest.prototype.open/send, ethereum.request)
	"wallet.address",        // crypto-wallet address literal, or a regex written to match one
	"script.inject",         // a remote <script> injected into the page
	"publish.self",          // package publishing from package code (npm publish, twine upload, gh auth token)
	"fs.read.nonsource",     // read of a data file (image, font, media, .bin/.dat) by name
	"install.binary",        // an install script runs a file of the package that is not JS, Python or shell source (scan)
	"install.unanalysed",    // install-time code that could not be parsed (timed out): only lexically analysed, never taken as benign (scan)
	"process.download_exec", // a process started with a command line that downloads a script or program and runs it (curl … | sh)
	"eval.payload",          // eval/Function/vm/exec of a constant that folds, through decoding, to code (the decoded payload itself)

	// Phase markers placed by the sequence builder.
	"[INSTALL]",
	"[IMPORT]",
	"[OTHER]",
}
