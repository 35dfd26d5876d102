# `cmake --install` into a temporary DESTDIR: the desktop entry and the SVG icon land where desktop
# environments look for them (share/applications, share/icons/hicolor/scalable/apps), the entry
# names the installed binary and icon, and the demo sits where the app looks for it.
# Run as: cmake -DBUILD_DIR=<build> -DDEST=<empty dir> -P check_install.cmake
file(REMOVE_RECURSE "${DEST}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env DESTDIR=${DEST} ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix /usr
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} failed (${rc}): ${err}")
endif()
foreach(f usr/bin/cachescope usr/bin/cachescope-cli usr/share/applications/cachescope.desktop
          usr/share/icons/hicolor/scalable/apps/cachescope.svg usr/share/cachescope/demo/project/Dockerfile)
  if(NOT EXISTS "${DEST}/${f}")
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
file(READ "${DEST}/usr/share/applications/cachescope.desktop" entry)
foreach(line "[Desktop Entry]" "Type=Application" "Exec=cachescope" "Icon=cachescope")
  string(FIND "${entry}" "${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "cachescope.desktop: no line \"${line}\"")
  endif()
endforeach()
file(READ "${DEST}/usr/share/icons/hicolor/scalable/apps/cachescope.svg" icon)
string(FIND "${icon}" "<svg" at)
if(at EQUAL -1)
  message(FATAL_ERROR "cachescope.svg: not an SVG document")
endif()
file(REMOVE_RECURSE "${DEST}")
