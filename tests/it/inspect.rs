//! `pyx inspect` on the ELF fixtures (built by fixtures/elf/build.sh with the real cross
//! compilers) and on wheels.

use crate::common::{TestContext, fixture, text};

fn inspect_json(ctx: &TestContext, rel: &str) -> serde_json::Value {
    let out = ctx
        .pyx()
        .args(["inspect", "--json"])
        .arg(fixture(rel))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    serde_json::from_str::<serde_json::Value>(&stdout).unwrap()[0].clone()
}

#[test]
fn every_target_fixture_is_recognised() {
    let ctx = TestContext::new();
    for (file, machine, class, endian) in [
        ("armv7l", "EM_ARM", "Elf32", "Little"),
        ("armv6l", "EM_ARM", "Elf32", "Little"),
        ("armv5tel", "EM_ARM", "Elf32", "Little"),
        ("aarch64", "EM_AARCH64", "Elf64", "Little"),
        ("i686", "EM_386", "Elf32", "Little"),
        ("x86_64", "EM_X86_64", "Elf64", "Little"),
        ("ppc64le", "EM_PPC64", "Elf64", "Little"),
        ("s390x", "EM_S390", "Elf64", "Big"),
        ("mips64", "EM_MIPS", "Elf64", "Little"),
        ("riscv64", "EM_RISCV", "Elf64", "Little"),
    ] {
        let j = inspect_json(&ctx, &format!("elf/{file}.so"));
        assert_eq!(j["kind"], "elf");
        assert_eq!(j["target"], file, "{file}");
        assert_eq!(j["machine_name"], machine, "{file}");
        assert_eq!(j["class"], class, "{file}");
        assert_eq!(j["endian"], endian, "{file}");
        assert_eq!(j["libc"], "glibc", "{file}");
        assert_eq!(j["needed"][0], "libc.so.6", "{file}");
    }
}

#[test]
fn arm_float_abi_and_cpu_arch() {
    let ctx = TestContext::new();
    for (file, float, arch) in [
        ("armv7l", "Hard", 10),
        ("armv6l", "Hard", 6),
        ("armv6l-with-v7-crt", "Hard", 10),
        ("armv5tel", "Soft", 4),
    ] {
        let j = inspect_json(&ctx, &format!("elf/{file}.so"));
        assert_eq!(j["float_abi"], float, "{file}");
        assert_eq!(j["arm_eabi"], 5, "{file}");
        assert_eq!(j["arm_attributes"]["cpu_arch"], arch, "{file}");
    }
}

#[test]
fn symbol_versions_and_manylinux_floor() {
    let ctx = TestContext::new();
    let j = inspect_json(&ctx, "elf/aarch64.so");
    assert_eq!(j["symbol_versions"]["GLIBC"], "2.17");
    assert_eq!(j["manylinux"], "manylinux_2_17");
    let j = inspect_json(&ctx, "elf/aarch64-glibc234.so");
    assert_eq!(j["symbol_versions"]["GLIBC"], "2.34");
    assert_eq!(j["manylinux"], "manylinux_2_34");
}

#[test]
fn human_table_for_an_elf() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .arg("inspect")
        .arg(fixture("elf/armv7l.so"))
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert_eq!(
        ctx.filter(&stdout),
        "[REPO]/fixtures/elf/armv7l.so\n  \
         machine       EM_ARM (armv7l), 32-bit, little-endian\n  \
         arm abi       EABI5, hard-float (e_flags 0x5000400)\n  \
         arm cpu arch  v7 (Tag_CPU_arch 10)\n  \
         interpreter   -\n  \
         libc          glibc\n  \
         needed        libc.so.6\n  \
         versions      GLIBC_2.4\n  \
         manylinux     manylinux_2_17\n"
    );
}

#[test]
fn wheel_fields() {
    let ctx = TestContext::new();
    let j = inspect_json(
        &ctx,
        "wheels/good/demo_ml-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    );
    assert_eq!(j["kind"], "wheel");
    assert_eq!(j["name"], "demo-ml");
    assert_eq!(j["version"], "1.0");
    assert_eq!(
        j["platform_tags"],
        serde_json::json!(["manylinux_2_17_aarch64", "manylinux2014_aarch64"])
    );
    assert_eq!(j["root_is_purelib"], false);
    assert_eq!(
        j["elfs"][0]["path"],
        "demo/_demo.cpython-311-aarch64-linux-gnu.so"
    );
    assert_eq!(j["elfs"][0]["target"], "aarch64");
}

#[test]
fn truncated_elf_is_an_error_with_a_hint() {
    let ctx = TestContext::new();
    let out = ctx
        .pyx()
        .arg("inspect")
        .arg(fixture("elf/armv7l-truncated.so"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        ctx.filter(&stderr),
        "error: cannot read `[REPO]/fixtures/elf/armv7l-truncated.so` as ELF\n  \
         Caused by: truncated or corrupt ELF file: the section header table ends past the file's 600 bytes (the file is truncated)\n  \
         hint: the file is truncated or damaged\n"
    );
}

/// `pyx inspect` exited 0 on a zero-byte `.whl`, a text file named `.whl`, an unsafe wheel and a
/// zip bomb, printing tags read from the file name.
#[test]
fn unreadable_wheels_are_an_error_not_tags_from_the_name() {
    let ctx = TestContext::new();
    let empty = ctx.path().join("empty-1.0-py3-none-any.whl");
    std::fs::write(&empty, b"").unwrap();
    let text_file = ctx.path().join("notes-1.0-py3-none-any.whl");
    std::fs::write(&text_file, b"just some text\n").unwrap();
    for (wheel, says) in [
        (empty, "is not a readable zip archive"),
        (text_file, "is not a readable zip archive"),
        (
            fixture("wheels/broken/dotdot-1.0-cp311-cp311-linux_armv7l.whl"),
            "`..` path component",
        ),
        (
            fixture("wheels/broken/zip_bomb-1.0-cp311-cp311-linux_armv7l.whl"),
            "zip bomb",
        ),
        (
            fixture("wheels/broken/truncated_elf-1.0-cp311-cp311-linux_armv7l.whl"),
            "truncated or corrupt ELF",
        ),
    ] {
        let out = ctx.pyx().arg("inspect").arg(&wheel).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {stdout}{stderr}",
            wheel.display()
        );
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains("error: cannot inspect"), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
