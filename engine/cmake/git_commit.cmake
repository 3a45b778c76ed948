# Run at every build (target geotps_git_commit): writes OUT, a header with the source tree's git
# commit ("<hash>" or "<hash>-dirty" with uncommitted changes; "unknown (not a git checkout)"
# otherwise), and rewrites it only when the text changes, so that a build without a new commit
# recompiles nothing. Used for the git_commit attribute of result files (docs/output.md).
find_package(Git QUIET)
set(commit "unknown (not a git checkout)")
if(GIT_FOUND)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SRC}" rev-parse HEAD
                  OUTPUT_VARIABLE hash RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0 AND hash)
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SRC}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE changes RESULT_VARIABLE rc2 ERROR_QUIET)
    set(commit "${hash}")
    if(rc2 EQUAL 0 AND changes)
      set(commit "${hash}-dirty")
    endif()
  endif()
endif()
set(text "// Generated at build time by engine/cmake/git_commit.cmake.\n#pragma once\nnamespace geotps {\ninline constexpr const char* kGitCommit = \"${commit}\";\n}\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
else()
  set(old "")
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
