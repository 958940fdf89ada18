import { describe, expect, it } from "vitest";
import { PolyrnnError, readError } from "../src/errors.js";

const sysError = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something, open 'x'`), { code });

describe("readError", () => {
  it("says in words why a file could not be read, naming it", () => {
    expect(readError("a.mid", sysError("ENOENT")).message).toBe("cannot read a.mid: no such file");
    expect(readError("d", sysError("ENOENT"), "file or folder").message).toBe(
      "cannot read d: no such file or folder",
    );
    expect(readError("d", sysError("EISDIR")).message).toBe("cannot read d: is a folder");
    expect(readError("a.mid", sysError("EACCES")).message).toBe("cannot read a.mid: permission denied");
    expect(readError("a.mid", sysError("EMFILE")).message).toBe("cannot read a.mid: EMFILE");
    expect(readError("a.mid", new Error("odd")).message).toBe("cannot read a.mid: odd");
    expect(readError("a.mid", sysError("ENOENT"))).toBeInstanceOf(PolyrnnError);
  });
});
