// Node's name for the machine's architecture (process.arch, os.arch()).
// Node reports the architecture it was built for; a worker runs natively, so
// the kernel's machine name, translated to Node's vocabulary, is the same.
import { native } from "./native.js";

const kArchitectures = {
  __proto__: null, x86_64: "x64", aarch64: "arm64", i386: "ia32", i686: "ia32", armv7l: "arm", armv6l: "arm",
  ppc64le: "ppc64", ppc64: "ppc64", s390x: "s390x", riscv64: "riscv64", loongarch64: "loong64", mips64: "mips64el",
};

export const machineArchitecture = () => {
  const machine = native.osUname()[4];
  return kArchitectures[machine] ?? machine;
};
