use std::ops::Deref;

use image::{ImageBuffer, Rgb};

use crate::error::CppError;

cpp_class!(
    /// A wrapper around a `matrix<rgb_pixel>`, dlibs own image class.
    pub unsafe struct ImageMatrix as "dlib::matrix<dlib::rgb_pixel>"
);

impl ImageMatrix {
    /// # Safety
    ///
    /// Create a new matrix from rgb channel values (r, g, b, r, g, b).
    ///
    /// Unsafe because we can't check that width * height * 3 <= number of channels
    ///
    /// Panics if dlib throws (allocation failure); see [`ImageMatrix::try_new`].
    pub unsafe fn new(width: usize, height: usize, ptr: *const u8) -> Self {
        Self::try_new(width, height, ptr).unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// # Safety
    ///
    /// As [`ImageMatrix::new`]; a C++ exception (allocation failure) is returned as its message.
    pub unsafe fn try_new(width: usize, height: usize, ptr: *const u8) -> Result<Self, String> {
        let mut error = CppError::new();
        let error_ptr = error.as_mut_ptr();
        let image = cpp!([width as "size_t", height as "size_t", ptr as "uint8_t*", error_ptr as "char*"] -> ImageMatrix as "dlib::matrix<dlib::rgb_pixel>" {
            try {
            dlib::matrix<dlib::rgb_pixel> image = dlib::matrix<dlib::rgb_pixel>(height, width);

            size_t offset = 0;

            for (size_t y = 0; y < height; y++) {
                for (size_t x = 0; x < width; x++) {
                    uint8_t red = *(ptr + offset);
                    uint8_t green = *(ptr + offset + 1);
                    uint8_t blue = *(ptr + offset + 2);

                    image(y, x) = dlib::rgb_pixel(red, green, blue);
                    offset += 3;
                }
            }

            return image;
            } catch (...) {
                dlib_rs_catch(error_ptr);
                return dlib::matrix<dlib::rgb_pixel>();
            }
        });
        error.check(image)
    }

    /// Copy a matrix from an rgb image
    ///
    /// Panics if dlib throws (allocation failure); see [`ImageMatrix::try_from_image`].
    pub fn from_image<C: Deref<Target = [u8]>>(image: &ImageBuffer<Rgb<u8>, C>) -> Self {
        Self::try_from_image(image).unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// Copy a matrix from an rgb image; a C++ exception is returned as its message.
    pub fn try_from_image<C: Deref<Target = [u8]>>(
        image: &ImageBuffer<Rgb<u8>, C>,
    ) -> Result<Self, String> {
        let width = image.width() as usize;
        let height = image.height() as usize;
        let ptr = image.as_ptr();

        unsafe { Self::try_new(width, height, ptr) }
    }
}

impl ImageMatrix {
    /// Panics if dlib throws (allocation failure); see [`ImageMatrix::try_resize`].
    pub fn resize(&self, width: usize, height: usize) -> Self {
        self.try_resize(width, height)
            .unwrap_or_else(|e| panic!("dlib: {e}"))
    }

    /// A resized copy; a C++ exception (allocation failure) is returned as its message.
    pub fn try_resize(&self, width: usize, height: usize) -> Result<Self, String> {
        let mut error = CppError::new();
        let error_ptr = error.as_mut_ptr();
        let resized = unsafe {
            cpp!([self as "const dlib::matrix<dlib::rgb_pixel>*", width as "size_t", height as "size_t", error_ptr as "char*"] -> ImageMatrix as "dlib::matrix<dlib::rgb_pixel>" {
                try {
                dlib::matrix<dlib::rgb_pixel> out(height, width);
                dlib::resize_image(*self, out);
                return out;
                } catch (...) {
                    dlib_rs_catch(error_ptr);
                    return dlib::matrix<dlib::rgb_pixel>();
                }
            })
        };
        error.check(resized)
    }
}
