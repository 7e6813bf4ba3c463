; clang 22.1 SLP vectorizer: invalid IR ("Instruction does not dominate all uses!") from a
; valid input.  Reduced with llvm-reduce from fastinit's philox_blocks (kernels_scalar.c, -O2,
; IR taken just before the slp-vectorizer pass with -mllvm -opt-bisect-limit).
;   opt-22 -passes=verify clang22-slp-reproducer.ll -disable-output         # fine
;   opt-22 -passes=slp-vectorizer clang22-slp-reproducer.ll -disable-output # broken module
; See docs/compiler-bugs.md.
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

define void @philox_blocks(i32 %0) {
  br label %2

2:                                                ; preds = %2, %1
  %3 = phi i32 [ 0, %1 ], [ %22, %2 ]
  %4 = phi i32 [ 0, %1 ], [ %17, %2 ]
  %5 = phi i32 [ 0, %1 ], [ %18, %2 ]
  %6 = phi i32 [ %0, %1 ], [ %12, %2 ]
  %7 = phi i32 [ 0, %1 ], [ %6, %2 ]
  %8 = phi i32 [ 0, %1 ], [ 0, %2 ]
  %9 = phi i32 [ 0, %1 ], [ %8, %2 ]
  %10 = zext i32 %9 to i64
  %11 = mul i64 %10, 0
  %12 = trunc i64 %11 to i32
  %13 = zext i32 %7 to i64
  %14 = mul i64 %13, 0
  %15 = trunc i64 %14 to i32
  %16 = xor i32 %6, 0
  %17 = trunc i64 0 to i32
  %18 = trunc i64 0 to i32
  %19 = xor i32 %5, 0
  %20 = xor i32 %19, 0
  %21 = xor i32 %4, 0
  %22 = trunc i64 0 to i32
  %23 = xor i32 %3, 0
  br i1 false, label %24, label %2

24:                                               ; preds = %2
  %25 = getelementptr i8, ptr null, i64 4
  store i32 %15, ptr %25, align 4
  %26 = getelementptr i8, ptr null, i64 8
  store i32 %16, ptr %26, align 4
  %27 = getelementptr i8, ptr null, i64 12
  store i32 %12, ptr %27, align 4
  %28 = getelementptr i8, ptr null, i64 16
  store i32 %20, ptr %28, align 4
  %29 = getelementptr i8, ptr null, i64 20
  store i32 %18, ptr %29, align 4
  %30 = getelementptr i8, ptr null, i64 24
  store i32 %21, ptr %30, align 4
  %31 = getelementptr i8, ptr null, i64 28
  store i32 %17, ptr %31, align 4
  %32 = getelementptr i8, ptr null, i64 32
  store i32 %23, ptr %32, align 4
  ret void
}
