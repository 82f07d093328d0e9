# Installing cnnc (README: Installing): `cmake --install build --prefix P`, `ninja install`, and the
# Debian package (`cpack -G DEB` in the build tree). An installed cnnc finds what it needs relative
# to its own executable (driver/LinkInputs.cpp, frontend/Frontend.cpp), so P can be moved or copied:
#   P/bin/cnnc
#   P/lib/cnnc/libcnnc_*.a        the libraries `cnnc build` links executables from
#   P/include/cnnc/app/Bundle.h   the one header its generated entry point includes
#   P/share/cnnc/stdlib/          the standard library (`import "vgg16"`)
#   P/share/man/man1/cnnc.1, P/share/bash-completion/completions/cnnc   (once the tree has them)
# Debian's static libraries stay where their -dev packages put them: the package depends on those.
# Included before the subdirectories, whose install rules come after the strip setting below.

set(CNNC_INSTALL_LIBDIR lib/cnnc)
set(CNNC_INSTALL_INCLUDEDIR include/cnnc)

# Debian users expect self-built software in /usr/local (CMake's default), never in /usr, which
# belongs to dpkg; `ninja install` says where it writes before anyone runs it.
message(STATUS "cnnc: `ninja install` installs into ${CMAKE_INSTALL_PREFIX} (another: -DCMAKE_INSTALL_PREFIX=P, "
               "or `cmake --install build --prefix P`; `cpack -G DEB` in the build tree makes a .deb for /usr)")

# Installed binaries are stripped unless asked otherwise (a RelWithDebInfo cnnc is 75 MB, mostly
# debug info): the setting CMake's own strip step reads, for every rule that follows.
option(CNNC_INSTALL_STRIP "Strip debug information from the installed cnnc and libraries" ON)
if(CNNC_INSTALL_STRIP)
  install(CODE "set(CMAKE_INSTALL_DO_STRIP 1)")
endif()

install(DIRECTORY stdlib/ DESTINATION share/cnnc/stdlib FILES_MATCHING PATTERN "*.cnn")

# The man page and bash completion are generated from the command line's own text (app/Cli); they
# are installed as soon as the tree has them.
if(EXISTS ${PROJECT_SOURCE_DIR}/docs/cnnc.1)
  install(FILES docs/cnnc.1 DESTINATION share/man/man1)
endif()
if(EXISTS ${PROJECT_SOURCE_DIR}/scripts/cnnc.bash-completion)
  install(FILES scripts/cnnc.bash-completion DESTINATION share/bash-completion/completions RENAME cnnc)
endif()

# The static libraries `cnnc build` links into every executable (so that it runs without them),
# each as <file>=<the Debian package that ships it>: `cnnc build` names the package when the file is
# missing, and the .deb depends on it. Sets CNNC_EXE_SYSTEM_ARCHIVES (<path>=<package>, link order).
set(CNNC_EXE_SYSTEM_ARCHIVES "")
set(CNNC_EXE_PACKAGES "")
if(NOT CNNC_FUZZ)  # the fuzzers build no executables
  foreach(entry IN ITEMS libantlr4-runtime.a=libantlr4-runtime-dev hdf5/serial/libhdf5.a=libhdf5-dev
                         libsz.a=libaec-dev libaec.a=libaec-dev libpng16.a=libpng-dev
                         libjpeg.a=libjpeg62-turbo-dev libz.a=zlib1g-dev)
    string(REPLACE "=" ";" entry "${entry}")
    list(GET entry 0 file)
    list(GET entry 1 package)
    get_filename_component(name ${file} NAME)
    get_filename_component(subdir ${file} DIRECTORY)
    find_library(CNNC_STATIC_${name} ${name} PATH_SUFFIXES ${subdir} REQUIRED)
    list(APPEND CNNC_EXE_SYSTEM_ARCHIVES "${CNNC_STATIC_${name}}=${package}")
    list(APPEND CNNC_EXE_PACKAGES ${package})
  endforeach()
  list(REMOVE_DUPLICATES CNNC_EXE_PACKAGES)
endif()

# cnnc_install_program(<target>): installs the executable in P/bin. With CNNC_INSTALL_DEBUG_INFO, the
# debug information stripped from it is kept in P/bin/.debug/<name>.debug, where gdb finds it from the
# link the binary then carries (.gnu_debuglink), wherever P is moved. The option is read again when
# installing, so `cmake -DCNNC_INSTALL_DEBUG_INFO=ON -P build/cmake_install.cmake` can ask for it too.
option(CNNC_INSTALL_DEBUG_INFO "Install cnnc's debug information beside it, in bin/.debug/" OFF)
function(cnnc_install_program target)
  install(TARGETS ${target} DESTINATION bin)
  install(CODE "
    if(NOT DEFINED CNNC_INSTALL_DEBUG_INFO)
      set(CNNC_INSTALL_DEBUG_INFO ${CNNC_INSTALL_DEBUG_INFO})
    endif()
    if(CNNC_INSTALL_DEBUG_INFO)
      set(bin \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin\")
      file(MAKE_DIRECTORY \${bin}/.debug)
      execute_process(COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:${target}> \${bin}/.debug/${target}.debug
                      RESULT_VARIABLE kept)
      execute_process(COMMAND ${CMAKE_OBJCOPY} --add-gnu-debuglink=\${bin}/.debug/${target}.debug \${bin}/${target}
                      RESULT_VARIABLE linked)
      if(NOT kept EQUAL 0 OR NOT linked EQUAL 0)
        message(FATAL_ERROR \"objcopy could not keep the debug information of ${target} in \${bin}/.debug\")
      endif()
    endif()")
endfunction()

# cnnc_install_exe_inputs(<targets>): installs the static libraries `cnnc build` links (in
# CNNC_INSTALL_LIBDIR, by their file names) and the header its entry point includes.
function(cnnc_install_exe_inputs)
  install(TARGETS ${ARGN} ARCHIVE DESTINATION ${CNNC_INSTALL_LIBDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/compiler/src/app/Bundle.h DESTINATION ${CNNC_INSTALL_INCLUDEDIR}/app)
  # CMake strips executables only. The archives' debug information (most of their size) goes too:
  # the executables linked from them drop it anyway (driver/Executable.cpp: -Wl,--strip-debug).
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      file(GLOB archives \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CNNC_INSTALL_LIBDIR}/*.a\")
      execute_process(COMMAND ${CMAKE_STRIP} --strip-debug \${archives} RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR \"strip --strip-debug failed on \${archives}\")
      endif()
    endif()")
endfunction()

# The Debian package: what `cnnc build` and `cnnc run` need at run time. dpkg-shlibdeps finds the
# shared libraries cnnc itself loads (Halide, LLVM, ANTLR, HDF5, ...); the compiler and the -dev
# packages of the static libraries above are declared here. `cc` builds `cnnc run`'s kernel cache.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cnnc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "compiler for .cnn convolutional network files")
set(CPACK_PACKAGE_DESCRIPTION "cnnc checks .cnn files (a small language for convolutional networks, \
their data and training, with Keras names and semantics), trains and evaluates them with Halide \
kernels, and compiles them into standalone native executables.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # cnnc_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Seed 2d5c2180 maintainers <maintainers@users.noreply.r-seed-2d5c2180.example>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
string(REPLACE ";" ", " CPACK_DEBIAN_PACKAGE_DEPENDS "g++;gcc;${CNNC_EXE_PACKAGES}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS gnuplot-nox)  # training plots; without it `cnnc run` skips them
include(CPack)
